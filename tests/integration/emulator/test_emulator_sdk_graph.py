"""The real azure-mgmt-resourcegraph client: shapes, $top/$skipToken paging, 400s, quota."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.v2023_05_01 import models
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from emulator_support import CLUSTER_ARGS, SUBSCRIPTION

from tests.support import eventually

pytestmark = pytest.mark.integration
CLUSTERS_QUERY = (
    "resources | where type =~ 'microsoft.kubernetes/connectedclusters' "
    "| extend connectivityStatus = tostring(properties.connectivityStatus) "
    "| project id, name, resourceGroup, subscriptionId, location, kind, tags, connectivityStatus"
)


def query(client: ResourceGraphClient, text: str, **options: object):
    return client.resources(
        QueryRequest(
            subscriptions=[SUBSCRIPTION], query=text, options=QueryRequestOptions(**options)
        )
    )


def test_response_shape(graph_client: ResourceGraphClient) -> None:
    result = query(graph_client, CLUSTERS_QUERY + " | where name == 'canary-1'")
    assert (result.total_records, result.count, result.result_truncated) == (1, 1, "false")
    row = result.data[0]
    assert row["resourceGroup"] == "rg-fleet"
    assert row["tags"] == {"ring": "canary", "site": "site-1"}
    assert row["connectivityStatus"] == "Connected"
    assert result.skip_token is None


def test_paging_with_top_and_skip_token(graph_client: ResourceGraphClient) -> None:
    """130 clusters in pages of 50: the same query resent with $skipToken."""
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        result = query(graph_client, CLUSTERS_QUERY, top=50, skip_token=token)
        assert result.total_records == 130
        seen.extend(row["id"] for row in result.data)
        pages += 1
        token = result.skip_token
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 130


def test_without_id_column_results_are_truncated(graph_client: ResourceGraphClient) -> None:
    result = query(graph_client, "resources | project name", top=10)
    assert (result.count, result.result_truncated, result.skip_token) == (10, "true", None)


def test_tag_filter_and_order(graph_client: ResourceGraphClient) -> None:
    result = query(
        graph_client,
        CLUSTERS_QUERY + " | where tags['ring'] == 'broad' and tags['site'] in ('site-2') "
        "| order by name asc | limit 3",
    )
    assert [row["name"] for row in result.data] == ["store-002", "store-006", "store-010"]


def test_flux_configurations_table(
    graph_client: ResourceGraphClient, flux_client: SourceControlConfigurationClient
) -> None:
    config = models.FluxConfiguration(
        git_repository=models.GitRepositoryDefinition(
            url="https://github.com/contoso/fleet-config",
            repository_ref=models.RepositoryRefDefinition(branch="main", commit="abc1234"),
        ),
        kustomizations={"apps": models.KustomizationDefinition(path="./apps")},
    )
    for cluster in ("canary-1", "canary-2"):
        flux_client.flux_configurations.begin_create_or_update(
            *CLUSTER_ARGS, cluster, "baseline", config
        ).result()
    text = (
        "kubernetesconfigurationresources "
        "| where type =~ 'microsoft.kubernetesconfiguration/fluxconfigurations' "
        "| where properties.gitRepository.repositoryRef.branch == 'main' "
        "| extend clusterId = tostring(split(id, '/providers/Microsoft.Kubernetes"
        "Configuration')[0]) "
        "| project id, name, clusterId, complianceState = tostring(properties.complianceState), "
        "syncedCommit = tostring(properties.sourceSyncedCommitId)"
    )
    rows = eventually(
        lambda: (
            (r := query(graph_client, text + " | where complianceState == 'Compliant'").data)
            and len(r) == 2
            and r
        )
    )
    assert {row["syncedCommit"] for row in rows} == {"main/abc1234"}
    assert rows[0]["clusterId"].endswith("/connectedClusters/canary-1")


def test_unsupported_query_is_400_naming_it(graph_client: ResourceGraphClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        query(graph_client, "resources | summarize count() by location")
    error = caught.value.error
    assert caught.value.status_code == 400
    assert error.code == "BadRequest"
    assert [d.code for d in error.details] == ["InvalidQuery", "UnsupportedQueryElement"]
    assert "'summarize'" in error.details[1].message


def test_quota_headers_on_every_answer(graph_client: ResourceGraphClient) -> None:
    headers: dict[str, str] = {}
    graph_client.resources(
        QueryRequest(subscriptions=[SUBSCRIPTION], query="resources | limit 1"),
        cls=lambda response, body, _: headers.update(response.http_response.headers),
    )
    assert int(headers["x-ms-user-quota-remaining"]) >= 0
    assert headers["x-ms-user-quota-resets-after"].count(":") == 2
