"""Resource Graph and connectedClusters against Azure's rules, through the real SDKs:
case-sensitive tag keys, quota headers on every answer, connectivityStatus AgentNotInstalled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest
from emulator_support import SUBSCRIPTION, fleet_scenario

from emulator.testing import Emulator

pytestmark = pytest.mark.integration
HHMMSS = re.compile(r"^\d\d:\d\d:\d\d$")
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet"
CLUSTERS = GROUP + "/providers/Microsoft.Kubernetes/connectedClusters"


def names(client: ResourceGraphClient, query: str) -> list[str]:
    result = client.resources(QueryRequest(subscriptions=[SUBSCRIPTION], query=query))
    return sorted(row["name"] for row in result.data)


def quota_of(client: ResourceGraphClient, query: str = "resources | limit 1") -> dict[str, str]:
    headers: dict[str, str] = {}
    client.resources(
        QueryRequest(subscriptions=[SUBSCRIPTION], query=query),
        cls=lambda response, body, _: headers.update(response.http_response.headers),
    )
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ms-user-quota")}


# ---------------------------------------------------------------------------- tag keys
def test_tag_keys_are_case_sensitive(emulator: Emulator, graph_client: ResourceGraphClient) -> None:
    emulator.control.add_cluster("shouty-1", tags={"Ring": "canary"})
    query = "resources | where tostring(tags['ring']) == 'canary' | project id, name"
    assert names(graph_client, query) == ["canary-1", "canary-2"]
    upper = "resources | where tostring(tags['Ring']) == 'canary' | project id, name"
    assert names(graph_client, upper) == ["shouty-1"]
    row = graph_client.resources(
        QueryRequest(subscriptions=[SUBSCRIPTION], query="resources | where name == 'shouty-1'")
    ).data[0]
    assert row["tags"] == {"Ring": "canary"}  # kept as written, never lower-cased
    loose = "resources | where tostring(tags['ring']) =~ 'CANARY' | project id, name"
    assert names(graph_client, loose) == ["canary-1", "canary-2"]


# ------------------------------------------------------------------------ quota headers
def test_quota_headers_without_a_configured_quota(graph_client: ResourceGraphClient) -> None:
    """Generous and steady: 14 left of 15 per 5 s on every answer, never a 429."""
    answers = [quota_of(graph_client) for _ in range(30)]
    assert all(
        a == {"x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"}
        for a in answers
    )


def test_quota_headers_on_errors_too(emulator: Emulator, graph_client: ResourceGraphClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        graph_client.resources(
            QueryRequest(subscriptions=[SUBSCRIPTION], query="resources | summarize count()")
        )
    assert caught.value.status_code == 400
    assert caught.value.response is not None
    assert caught.value.response.headers["x-ms-user-quota-remaining"] == "14"
    unauthenticated = requests.post(
        emulator.endpoint + "/providers/Microsoft.ResourceGraph/resources",
        params={"api-version": "2021-03-01"},
        json={"query": "resources"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert unauthenticated.status_code == 401
    assert HHMMSS.match(unauthenticated.headers["x-ms-user-quota-resets-after"])
    wrong_version = requests.post(
        emulator.endpoint + "/providers/Microsoft.ResourceGraph/resources",
        params={"api-version": "2001-01-01"},
        json={"query": "resources"},
        headers={"Authorization": "Bearer x"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert wrong_version.status_code == 400
    assert "x-ms-user-quota-remaining" in wrong_version.headers


@pytest.fixture
def quota_emulator(tls_dir: Any) -> Iterator[Emulator]:
    scenario = fleet_scenario(
        faults={"throttle": {"resourceGraph": {"queries": 3, "windowSeconds": 60}}}
    )
    with Emulator(scenario, tls_dir=tls_dir) as running:
        yield running


def test_configured_quota_counts_down_then_429(quota_emulator: Emulator) -> None:
    with ResourceGraphClient(
        quota_emulator.credential(),
        base_url=quota_emulator.endpoint,
        connection_verify=str(quota_emulator.cert_path),
        retry_total=0,
    ) as client:
        seen = [quota_of(client) for _ in range(3)]
        assert [s["x-ms-user-quota-remaining"] for s in seen] == ["2", "1", "0"]
        assert all(HHMMSS.match(s["x-ms-user-quota-resets-after"]) for s in seen)
        assert seen[0]["x-ms-user-quota-resets-after"] <= "00:01:00"
        with pytest.raises(HttpResponseError) as caught:
            quota_of(client)
    assert caught.value.status_code == 429
    assert caught.value.error is not None and caught.value.error.code == "RateLimiting"
    assert caught.value.response is not None
    headers = caught.value.response.headers
    assert headers["x-ms-user-quota-remaining"] == "0"
    assert int(headers["Retry-After"]) >= 1
    assert quota_emulator.control.throttled() == {
        "writes": 0,
        "deletes": 0,
        "reads": 0,
        "resourceGraph": 1,
    }


# ----------------------------------------------------------------- AgentNotInstalled
def arm_get(emulator: Emulator, path: str, version: str) -> dict[str, Any]:
    response = requests.get(
        emulator.endpoint + path,
        params={"api-version": version},
        headers={"Authorization": "Bearer x"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_agent_not_installed(emulator: Emulator, graph_client: ResourceGraphClient) -> None:
    summary = emulator.control.set_connectivity("canary-1", "AgentNotInstalled")
    assert summary["connectivityStatus"] == "AgentNotInstalled"
    new = arm_get(emulator, f"{CLUSTERS}/canary-1", "2026-03-01")
    assert new["properties"]["connectivityStatus"] == "AgentNotInstalled"
    old = arm_get(emulator, f"{CLUSTERS}/canary-1", "2024-01-01")
    assert old["properties"]["connectivityStatus"] == "Connecting"
    listed = arm_get(emulator, CLUSTERS, "2026-03-01")["value"]
    assert {c["name"]: c["properties"]["connectivityStatus"] for c in listed}["canary-1"] == (
        "AgentNotInstalled"
    )
    query = (
        "resources | where type =~ 'microsoft.kubernetes/connectedclusters' "
        "| where tostring(properties.connectivityStatus) == 'AgentNotInstalled' | project id, name"
    )
    assert names(graph_client, query) == ["canary-1"]
    bad = requests.post(
        f"{emulator.endpoint}/_emulator/clusters/canary-1/connectivity",
        json={"status": "Unplugged"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert bad.status_code == 400
    assert "AgentNotInstalled" in bad.json()["error"]


def test_agent_not_installed_from_the_scenario(tls_dir: Any) -> None:
    scenario = fleet_scenario(
        clusters=[{"name": "fresh-1", "connectivityStatus": "AgentNotInstalled"}]
    )
    with Emulator(scenario, tls_dir=tls_dir) as running:
        body = arm_get(running, f"{CLUSTERS}/fresh-1", "2026-03-01")
        assert body["properties"]["connectivityStatus"] == "AgentNotInstalled"
        assert running.control.clusters()[0]["connectivityStatus"] == "AgentNotInstalled"
