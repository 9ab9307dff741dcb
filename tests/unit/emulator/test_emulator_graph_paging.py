"""Resource Graph over the backend: subscription scope, $top/$skipToken, table format."""

from __future__ import annotations

import pytest

from emulator.backend import Backend
from emulator.resourcegraph.exceptions import QueryError
from emulator.resourcegraph.models import RESULTS_KEPT, GraphRequest, run_query
from emulator.scenario import Scenario

SUB_A = "00000000-0000-0000-0000-00000000000a"
SUB_B = "00000000-0000-0000-0000-00000000000b"
QUERY = "resources | project id, name | order by name asc"


@pytest.fixture
def backend() -> Backend:
    return Backend(
        Scenario.model_validate(
            {
                "subscriptionId": SUB_A,
                "clusters": [
                    {"generate": {"count": 25, "name": "a-{i:02d}"}},
                    {"name": "b-01", "subscriptionId": SUB_B},
                    {"name": "b-02", "subscriptionId": SUB_B, "resourceGroup": "rg-other"},
                ],
            }
        )
    )


def request(
    query: str = QUERY,
    *,
    subscriptions: list[str] | None = None,
    top: int | None = None,
    skip: int = 0,
    skip_token: str | None = None,
    result_format: str = "objectArray",
) -> GraphRequest:
    return GraphRequest(query, subscriptions, top, skip, skip_token, result_format)


def test_subscriptions_scope_the_rows(backend: Backend) -> None:
    assert run_query(backend, request(subscriptions=[SUB_B]))["totalRecords"] == 2
    assert run_query(backend, request(subscriptions=[SUB_A.upper()]))["totalRecords"] == 25
    assert run_query(backend, request())["totalRecords"] == 27


def test_skip_token_walks_every_row_once(backend: Backend) -> None:
    names: list[str] = []
    token = None
    while True:
        page = run_query(backend, request(top=10, skip_token=token))
        names.extend(row["name"] for row in page["data"])
        token = page.get("$skipToken")
        if token is None:
            break
    assert names == sorted(names)
    assert len(names) == 27


def test_skip_token_belongs_to_its_query(backend: Backend) -> None:
    token = run_query(backend, request(top=5))["$skipToken"]
    with pytest.raises(QueryError) as caught:
        run_query(backend, request(query=QUERY + " | limit 20", top=5, skip_token=token))
    assert caught.value.code == "InvalidSkipToken"


def test_top_out_of_range(backend: Backend) -> None:
    with pytest.raises(QueryError):
        run_query(backend, request(top=1001))


def test_skip_offsets_the_first_page(backend: Backend) -> None:
    page = run_query(backend, request(top=2, skip=25))
    assert [row["name"] for row in page["data"]] == ["b-01", "b-02"]


def test_table_format(backend: Backend) -> None:
    page = run_query(backend, request(top=1, result_format="table"))
    assert page["data"]["columns"] == [
        {"name": "id", "type": "string"},
        {"name": "name", "type": "string"},
    ]
    assert page["data"]["rows"][0][1] == "a-01"


def test_lists_by_subscription_and_group(backend: Backend) -> None:
    assert [c.name for c in backend.clusters_in(SUB_B)] == ["b-01", "b-02"]
    assert [c.name for c in backend.clusters_in(SUB_B, "RG-OTHER")] == ["b-02"]


def test_later_pages_read_the_result_the_first_page_counted(backend: Backend) -> None:
    first = run_query(backend, request(top=10))
    backend.clusters.clear()  # the fleet changes between pages
    second = run_query(backend, request(top=10, skip_token=first["$skipToken"]))
    assert second["totalRecords"] == first["totalRecords"] == 27
    assert [row["name"] for row in second["data"]] == [f"a-{i:02d}" for i in range(11, 21)]


def test_a_token_whose_result_is_gone_runs_the_query_again(backend: Backend) -> None:
    first = run_query(backend, request(top=10))
    backend.graph_results.clear()  # expired, or another emulator process
    second = run_query(backend, request(top=10, skip_token=first["$skipToken"]))
    assert second["totalRecords"] == 27
    assert [row["name"] for row in second["data"]] == [f"a-{i:02d}" for i in range(11, 21)]


def test_only_the_latest_results_are_kept(backend: Backend) -> None:
    for _ in range(RESULTS_KEPT + 5):
        run_query(backend, request(top=1))
    assert len(backend.graph_results) == RESULTS_KEPT
