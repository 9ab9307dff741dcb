"""The Resource Graph KQL subset: each supported element, and a named error for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.resourcegraph.exceptions import QueryError
from emulator.resourcegraph.models import TABLE_COLUMNS
from emulator.resourcegraph.query import compile_query

CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"
ROWS: list[dict[str, Any]] = [
    {
        "id": f"/subscriptions/s/resourceGroups/rg/{CLUSTERS}/{name}",
        "name": name,
        "type": "microsoft.kubernetes/connectedclusters",
        "location": location,
        "resourceGroup": "rg",
        "subscriptionId": "s",
        "kind": "ProvisionedCluster",
        "tags": tags,
        "properties": {"connectivityStatus": status, "agent": {"version": version}, "nodes": nodes},
    }
    for name, location, tags, status, version, nodes in [
        ("canary-1", "westeurope", {"ring": "canary", "site": "site-1"}, "Connected", "1.2", 3),
        ("store-001", "westeurope", {"ring": "broad", "site": "site-1"}, "Offline", "1.1", 5),
        ("store-002", "northeurope", {"ring": "broad", "site": "site-2"}, "Connected", "1.2", 1),
        ("Store-003", "northeurope", {"ring": "Broad"}, "Expired", "1.0", 2),
    ]
]


def run(query: str) -> list[dict[str, Any]]:
    return compile_query(query, TABLE_COLUMNS).run([dict(row) for row in ROWS])


def names(query: str) -> list[str]:
    return [row["name"] for row in run(query)]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("where name == 'store-001'", ["store-001"]),
        ("where name == 'STORE-001'", []),
        ("where name =~ 'STORE-001'", ["store-001"]),
        ("where name != 'store-001'", ["canary-1", "store-002", "Store-003"]),
        ("where name !~ 'store-003'", ["canary-1", "store-001", "store-002"]),
        ("where location in ('northeurope')", ["store-002", "Store-003"]),
        ("where tags['ring'] in~ ('BROAD')", ["store-001", "store-002", "Store-003"]),
        ("where tags['ring'] !in ('broad', 'Broad')", ["canary-1"]),
        ("where tags.ring == 'canary' or tags['site'] == 'site-2'", ["canary-1", "store-002"]),
        ("where tags['ring'] == 'broad' and location == 'westeurope'", ["store-001"]),
        ("where properties.connectivityStatus == 'Connected'", ["canary-1", "store-002"]),
        ("where tostring(properties.agent.version) == '1.2'", ["canary-1", "store-002"]),
        ("where tags['site'] == ''", ["Store-003"]),
        ("where isempty(tags['site'])", ["Store-003"]),
        ("where name startswith 'store' and name !contains '2'", ["store-001", "Store-003"]),
        ("where properties.nodes >= 3", ["canary-1", "store-001"]),
        (
            "where (name == 'canary-1' or name == 'store-001') and location =~ 'WestEurope'",
            ["canary-1", "store-001"],
        ),
    ],
)
def test_where(clause: str, expected: list[str]) -> None:
    assert names(f"resources | {clause}") == expected


def test_extend_then_project_names_columns() -> None:
    """extend adds columns; project keeps and orders them; paths become a_b names."""
    rows = run(
        "resources | extend status = tostring(properties.connectivityStatus), ring = tags['ring'] "
        "| where status == 'Connected' | project id, name, ring, properties.agent.version"
    )
    assert list(rows[0]) == ["id", "name", "ring", "properties_agent_version"]
    assert [(r["name"], r["ring"], r["properties_agent_version"]) for r in rows] == [
        ("canary-1", "canary", "1.2"),
        ("store-002", "broad", "1.2"),
    ]


def test_order_by_defaults_to_descending() -> None:
    assert names("resources | order by name")[0] == "store-002"
    assert names("resources | order by location asc, name desc") == [
        "store-002",
        "Store-003",
        "store-001",
        "canary-1",
    ]


def test_top_and_limit() -> None:
    assert names("resources | top 2 by properties.nodes") == ["store-001", "canary-1"]
    assert len(run("resources | limit 3")) == 3
    assert len(run("resources | take 1")) == 1


def test_count_and_project_away() -> None:
    assert run("resources | where location == 'westeurope' | count") == [{"Count": 2}]
    assert "properties" not in run("resources | project-away properties, tags")[0]


def test_functions_split_strcat_tolower() -> None:
    rows = run(
        "resources | where name == 'canary-1' | project id, cluster = tostring(split(id, "
        "'/providers/')[0]), label = strcat(tolower(name), '@', location)"
    )
    assert rows[0]["cluster"] == "/subscriptions/s/resourceGroups/rg"
    assert rows[0]["label"] == "canary-1@westeurope"


def test_table_name_is_case_insensitive() -> None:
    assert len(run("Resources | project id")) == 4


@pytest.mark.parametrize(
    ("query", "element"),
    [
        ("resources | summarize count() by location", "summarize"),
        ("resources | join (resources) on id", "join"),
        ("resources | where name matches regex 'x'", "matches"),
        ("resources | where name == 'a' | mv-expand tags", "mv-expand"),
        ("resources | extend x = bag_keys(tags)", "bag_keys()"),
        ("resources | where properties.nodes + 1 > 2", "arithmetic operator '+'"),
        ("securityresources | limit 1", "securityresources"),
    ],
)
def test_unsupported_elements_are_named(query: str, element: str) -> None:
    with pytest.raises(QueryError) as caught:
        run(query)
    assert caught.value.code == "UnsupportedQueryElement"
    assert element in caught.value.message


def test_unknown_column_is_reported() -> None:
    with pytest.raises(QueryError) as caught:
        run("resources | where colour == 'blue'")
    assert caught.value.code == "FailedToResolveScalarExpression"
    assert "colour" in caught.value.message


def test_syntax_error_has_position() -> None:
    with pytest.raises(QueryError) as caught:
        run("resources | where name == ")
    assert caught.value.code == "ParserFailure"
    assert caught.value.position > 0


CASED_ROWS: list[dict[str, Any]] = [
    {"name": "upper", "tags": {"Ring": "canary"}, "properties": {"connectivityStatus": "On"}},
    {"name": "lower", "tags": {"ring": "canary"}, "properties": {"connectivityStatus": "On"}},
    {"name": "shout", "tags": {"ring": "CANARY"}, "properties": {"ConnectivityStatus": "On"}},
]


def cased(query: str) -> list[str]:
    rows = compile_query(query, TABLE_COLUMNS).run([dict(row) for row in CASED_ROWS])
    return [row["name"] for row in rows]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        # KQL dynamic property access is case-sensitive: tags['ring'] never finds 'Ring'.
        ("where tostring(tags['ring']) == 'canary'", ["lower"]),
        ("where tostring(tags['Ring']) == 'canary'", ["upper"]),
        ("where tags.ring == 'canary'", ["lower"]),
        ("where isempty(tags['ring'])", ["upper"]),
        # Tag values compare as the operator says.
        ("where tags['ring'] =~ 'canary'", ["lower", "shout"]),
        ("where tags['ring'] in~ ('Canary')", ["lower", "shout"]),
        ("where tags['ring'] in ('canary')", ["lower"]),
        # Not only tags: every property path is case-sensitive.
        ("where properties.connectivityStatus == 'On'", ["upper", "lower"]),
        ("where properties.ConnectivityStatus == 'On'", ["shout"]),
    ],
)
def test_property_names_are_case_sensitive(clause: str, expected: list[str]) -> None:
    assert cased(f"resources | {clause}") == expected
