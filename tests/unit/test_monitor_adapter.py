"""The monitor adapter's pure parts: reading a Log Analytics table and a Prometheus vector into
values per cluster, matching them to the rollout's clusters, the wording of each failure, and
the Log Analytics endpoint setting."""

from types import SimpleNamespace
from typing import Any

import pytest

from shared.adapters.monitor import NoMonitor, status_error
from shared.adapters.monitor_answers import ClusterRef, assign, table_values
from shared.adapters.monitor_answers import vector_values as vector
from shared.errors import Forbidden, Invalid, NotFound, PermanentError, Throttled, TransientError
from shared.settings import LOG_ANALYTICS, Settings, SettingsError
from shared.trackspec import MetricGate

DOING = "metric gate 'error-rate': query"
ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/{}"


def table(columns: list[tuple[str, str]], rows: list[list[Any]]) -> Any:
    return SimpleNamespace(
        columns=[c for c, _ in columns], columns_types=[t for _, t in columns], rows=rows
    )


def test_a_table_is_read_by_its_cluster_column_and_its_one_number() -> None:
    answer = table(
        [("TimeGenerated", "datetime"), ("_ResourceId", "string"), ("Val", "real")],
        [["t", ID.format("a").lower(), 0.2], ["t", ID.format("b").lower(), None]],
    )
    assert table_values(answer, None, DOING) == [(("id", ID.format("a").lower()), 0.2)]


def test_a_table_can_name_clusters_and_pick_its_value_column() -> None:
    answer = table(
        [("ClusterName", "string"), ("Restarts", "long"), ("Pods", "long")], [["a", 3, 40]]
    )
    with pytest.raises(Invalid, match="exactly one numeric column, has Restarts, Pods"):
        table_values(answer, None, DOING)
    assert table_values(answer, "pods", DOING) == [(("name", "a"), 40.0)]
    with pytest.raises(Invalid, match="valueColumn 'Errors' is not in the answer"):
        table_values(answer, "Errors", DOING)


def test_a_table_without_a_cluster_column_says_what_to_project() -> None:
    with pytest.raises(Invalid, match=r"no cluster column .*project _ResourceId, ClusterId"):
        table_values(table([("Computer", "string"), ("Val", "real")], []), None, DOING)


def test_a_vector_is_read_by_cluster_id_then_cluster_label() -> None:
    data = {
        "resultType": "vector",
        "result": [
            {"metric": {"cluster": "a", "cluster_id": ID.format("a")}, "value": [1, "0.2"]},
            {"metric": {"cluster": "b"}, "value": [1, "NaN"]},
            {"metric": {"cluster": "c"}, "value": [1, "+Inf"]},
            {"metric": {"cluster": "d"}, "value": [1, "1e-3"]},
        ],
    }
    assert vector(data, DOING) == [(("id", ID.format("a")), 0.2), (("name", "d"), 0.001)]
    with pytest.raises(Invalid, match="answers a matrix, not an instant vector"):
        vector({"resultType": "matrix", "result": []}, DOING)


def test_values_are_assigned_to_the_rollouts_clusters_only() -> None:
    a, b = ClusterRef(ID.format("a"), "a"), ClusterRef(ID.format("b"), "b")
    twin = ClusterRef(ID.format("b").replace("/rg/", "/rg2/"), "b")
    found = [
        (("id", ID.format("a").upper() + "/"), 1.0),
        (("name", "B"), 2.0),
        (("name", "elsewhere"), 3.0),
    ]
    assert assign(found, [a, b], DOING) == {a.id: 1.0, b.id: 2.0}
    assert assign(found, [a, b, twin], DOING) == {a.id: 1.0}
    with pytest.raises(Invalid, match="several values for cluster 'a'"):
        assign([*found, (("name", "a"), 4.0)], [a, b], DOING)


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, Forbidden, "grant arcwave's identity Monitoring Data Reader"),
        (403, Forbidden, "grant arcwave's identity Monitoring Data Reader"),
        (404, NotFound, "not found (detail)"),
        (400, Invalid, "refused (400): detail"),
        (422, Invalid, "refused (422): detail"),
        (429, Throttled, "throttled, retry in 7s"),
        (503, TransientError, "answered 503: detail"),
    ],
)
def test_each_status_is_the_error_that_says_what_to_do(
    status: int, kind: type[Exception], words: str
) -> None:
    error = status_error(status, "detail", DOING, "prometheus", "7")
    assert type(error) is kind
    assert str(error).startswith(DOING) and words in str(error)


def test_a_runtime_without_monitor_access_refuses_every_query() -> None:
    gate = MetricGate.model_validate(
        {
            "name": "error-rate",
            "prometheus": {"queryEndpoint": "https://ws", "query": "up"},
            "threshold": {"max": 1},
        }
    )
    with pytest.raises(PermanentError, match="no Azure Monitor access configured"):
        NoMonitor().values(gate, [])


def test_the_log_analytics_endpoint_defaults_to_azures_and_must_be_a_url() -> None:
    store = {"ARCWAVE_STORE": "sqlite:///tmp/arcwave.db"}
    assert Settings.from_env(store).log_analytics_endpoint == LOG_ANALYTICS
    china = "https://api.loganalytics.azure.cn/v1/"
    env = store | {"ARCWAVE_LOG_ANALYTICS_ENDPOINT": china}
    assert Settings.from_env(env).log_analytics_endpoint == china.rstrip("/")
    with pytest.raises(SettingsError, match=r"ENDPOINT='api\.loganalytics\.io' is not a URL"):
        Settings.from_env(store | {"ARCWAVE_LOG_ANALYTICS_ENDPOINT": "api.loganalytics.io"})
