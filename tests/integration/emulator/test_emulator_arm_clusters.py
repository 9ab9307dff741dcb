"""connectedClusters over ARM with azure-core's ARM pipeline: get, list, nextLink paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.configuration import Configuration
from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
from emulator_support import SUBSCRIPTION

from emulator.testing import Emulator

pytestmark = pytest.mark.integration
API = "api-version=2024-01-01"
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet"
CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"


@pytest.fixture
def arm(emulator: Emulator) -> Iterator[ARMPipelineClient]:
    config: Configuration[Any, Any] = Configuration()
    config.authentication_policy = ARMChallengeAuthenticationPolicy(
        emulator.credential(), "https://management.azure.com/.default"
    )
    config.retry_policy = RetryPolicy(retry_total=0)
    with ARMPipelineClient(
        base_url=emulator.endpoint, config=config, connection_verify=str(emulator.cert_path)
    ) as client:
        yield client


def call(arm: ARMPipelineClient, url: str, method: str = "GET") -> tuple[int, Any]:
    absolute = url if url.startswith("https://") else arm.format_url(url)
    response = arm.send_request(HttpRequest(method, absolute))
    return response.status_code, response.json() if response.text() else None


def test_get_cluster_has_arc_properties(arm: ARMPipelineClient) -> None:
    status, body = call(arm, f"{GROUP}/{CLUSTERS}/canary-1?{API}")
    assert status == 200
    assert body["type"] == "Microsoft.Kubernetes/connectedClusters"
    assert body["tags"] == {"ring": "canary", "site": "site-1"}
    assert body["location"] == "westeurope"
    assert body["kind"] == "ProvisionedCluster"
    props = body["properties"]
    for key in (
        "kubernetesVersion",
        "distribution",
        "agentVersion",
        "lastConnectivityTime",
        "provisioningState",
    ):
        assert props[key]
    assert props["connectivityStatus"] == "Connected"


def test_offline_cluster_reports_offline(arm: ARMPipelineClient) -> None:
    _, body = call(arm, f"{GROUP}/{CLUSTERS}/store-007?{API}")
    assert body["properties"]["connectivityStatus"] == "Offline"


def test_unknown_cluster_is_404_with_arm_body(arm: ARMPipelineClient) -> None:
    status, body = call(arm, f"{GROUP}/{CLUSTERS}/ghost?{API}")
    assert status == 404
    assert body["error"]["code"] == "ResourceNotFound"
    assert "ghost" in body["error"]["message"]


@pytest.mark.parametrize("scope", [GROUP, f"/subscriptions/{SUBSCRIPTION}"])
def test_list_pages_through_every_cluster(arm: ARMPipelineClient, scope: str) -> None:
    """130 clusters come back over two pages joined by nextLink."""
    url: str | None = f"{scope}/{CLUSTERS}?{API}"
    names: list[str] = []
    pages = 0
    while url:
        status, body = call(arm, url)
        assert status == 200
        names.extend(item["name"] for item in body["value"])
        url = body["nextLink"]
        pages += 1
    assert pages == 2
    assert len(names) == len(set(names)) == 130


def test_paths_are_case_insensitive(arm: ARMPipelineClient) -> None:
    url = f"{GROUP.upper()}/providers/microsoft.kubernetes/CONNECTEDCLUSTERS/Canary-1?{API}"
    status, body = call(arm, url.replace(SUBSCRIPTION.upper(), SUBSCRIPTION))
    assert status == 200
    assert body["name"] == "canary-1"


def test_missing_api_version_is_400(arm: ARMPipelineClient) -> None:
    status, body = call(arm, f"{GROUP}/{CLUSTERS}/canary-1")
    assert status == 400
    assert body["error"]["code"] == "MissingApiVersionParameter"


def test_unknown_resource_group_is_404(arm: ARMPipelineClient) -> None:
    status, body = call(arm, f"/subscriptions/{SUBSCRIPTION}/resourceGroups/nope/{CLUSTERS}?{API}")
    assert status == 404
    assert body["error"]["code"] == "ResourceGroupNotFound"
