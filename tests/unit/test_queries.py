from shared import queries
from shared.trackspec import FleetSelection

SUB = "00000000-0000-0000-0000-000000000001"


def test_discovery_filters_type_and_groups_and_projects_id_but_never_tags() -> None:
    # tags['env'] is case-sensitive on the tag name in Resource Graph; Azure tag names are not,
    # so the gateway filters tags on the rows that come back.
    selection = FleetSelection(
        subscriptions=[SUB],
        resource_groups=["rg-a", "rg-b"],
        tags={"env": "prod", "ring": ["a", "b"]},
    )
    query = queries.discover_clusters(selection)
    assert query.splitlines() == [
        "resources",
        "| where type =~ 'microsoft.kubernetes/connectedclusters'",
        "| where resourceGroup in~ ('rg-a', 'rg-b')",
        "| extend connectivityStatus = tostring(properties.connectivityStatus)",
        "| project id, name, resourceGroup, subscriptionId, location, tags, connectivityStatus",
        "| order by id asc",
    ]


def test_discovery_without_narrowing_keeps_only_the_type_filter() -> None:
    query = queries.discover_clusters(FleetSelection(subscriptions=[SUB]))
    assert "resourceGroup" not in query.split("| project")[0]
    assert "tags[" not in query


def test_literals_are_escaped() -> None:
    assert queries.quote("it's") == "'it\\'s'"
    assert queries.quote("a\\b") == "'a\\\\b'"
    assert "in~ ('x\\' or 1==1')" in queries.describe_clusters(["x' or 1==1"])


def test_health_queries_filter_by_id() -> None:
    ids = ["/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/a"]
    assert f"| where id in~ ('{ids[0]}')" in queries.describe_clusters(ids)
    flux = queries.flux_configurations([ids[0] + "/providers/x/fluxConfigurations/b"])
    assert flux.startswith("kubernetesconfigurationresources\n")
    assert "| project id, name, properties" in flux
