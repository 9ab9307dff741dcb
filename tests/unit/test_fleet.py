import json
from pathlib import Path

import pytest

from shared.cluster import Cluster, Connectivity, parse_fleet
from shared.problems import InvalidInput

SUB = "00000000-0000-0000-0000-000000000001"
ROOT = Path(__file__).resolve().parents[2]


def arm_id(name: str, rg: str = "rg-fleet", sub: str = SUB) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/{rg}"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


def test_a_plain_list_of_clusters() -> None:
    fleet = parse_fleet([{"id": "c1", "name": "edge-1", "tags": {"ring": "canary"}}])
    assert fleet == [Cluster(id="c1", name="edge-1", tags={"ring": "canary"})]


def test_a_resource_graph_response_with_its_extra_columns() -> None:
    row = {
        "id": arm_id("edge-1"),
        "name": "edge-1",
        "type": "microsoft.kubernetes/connectedclusters",
        "location": "westeurope",
        "resourceGroup": "rg-fleet",
        "subscriptionId": SUB,
        "tags": None,
        "properties": {"connectivityStatus": "Offline", "kubernetesVersion": "1.30.4"},
    }
    [cluster] = parse_fleet({"totalRecords": 1, "count": 1, "data": [row]})
    assert cluster.tags == {}
    assert cluster.connectivity_status is Connectivity.OFFLINE
    assert cluster.is_offline
    assert cluster.location == "westeurope"


def test_subscription_group_and_name_come_from_the_arm_id() -> None:
    [cluster] = parse_fleet([{"id": arm_id("edge-7", rg="rg-west")}])
    assert (cluster.name, cluster.resource_group, cluster.subscription_id) == (
        "edge-7",
        "rg-west",
        SUB,
    )


def test_unknown_connectivity_states_are_treated_as_unknown() -> None:
    [cluster] = parse_fleet([{"id": "c", "name": "c", "connectivityStatus": "Degraded"}])
    assert cluster.connectivity_status is None
    assert not cluster.is_offline


def test_tag_lookup_ignores_the_case_of_names() -> None:
    cluster = Cluster(id="c", name="c", tags={"Ring": "canary"})
    assert cluster.tag("ring") == "canary"
    assert cluster.tag("site") is None


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"arcwave.io/exclude": "true"}, "tag arcwave.io/exclude=true"),
        ({"arcwave.io/exclude": "TRUE"}, "tag arcwave.io/exclude=true"),
        (
            {"arcwave.io/exclude": "true", "arcwave.io/exclude-reason": "swap"},
            "tag arcwave.io/exclude=true: swap",
        ),
        ({"arcwave.io/exclude": "false"}, None),
        ({}, None),
    ],
)
def test_exclusion_tag(tags: dict[str, str], reason: str | None) -> None:
    assert Cluster(id="c", name="c", tags=tags).exclusion == reason


def test_every_problem_is_named_by_index() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_fleet([{"id": "a", "name": "a", "tags": {"x": 1}}, {"name": "b"}, "c"])
    locs = [p.loc for p in error.value.problems]
    assert locs == ["fleet[0].tags.x", "fleet[1].id", "fleet[2]"]


def test_duplicate_ids_are_refused_case_insensitively() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_fleet({"data": [{"id": arm_id("a")}, {"id": arm_id("a").upper()}]})
    [problem] = error.value.problems
    assert problem.loc == "data[1].id"
    assert "duplicate of data[0].id" in problem.msg


@pytest.mark.parametrize(
    ("data", "loc"),
    [({"value": []}, "data"), ({"data": {}}, "data"), ("clusters", ""), (7, "")],
)
def test_the_top_level_must_be_a_list_or_a_resource_graph_response(data: object, loc: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_fleet(data)
    assert error.value.problems[0].loc == loc


def test_the_demo_fleet_parses() -> None:
    data = json.loads((ROOT / "scenarios/demo/fleet.json").read_text())
    fleet = parse_fleet(data)
    assert len(fleet) == 24
    assert {c.tag("ring") for c in fleet} == {"canary", "early", "broad"}
    assert {c.tag("site") for c in fleet} == {"site-1", "site-2", "site-3", "site-4"}
