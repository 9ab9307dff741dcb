"""Faults over the wire: ARM throttling, 5xx, runtime failure rules, out-of-band edits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.v2023_05_01 import models
from emulator_support import CLUSTER_ARGS, SUBSCRIPTION

from emulator.testing import Emulator
from tests.support import eventually

pytestmark = pytest.mark.integration
CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"
GOOD = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


def configuration(commit: str = GOOD) -> models.FluxConfiguration:
    return models.FluxConfiguration(
        git_repository=models.GitRepositoryDefinition(
            url="https://github.com/contoso/fleet-config",
            repository_ref=models.RepositoryRefDefinition(branch="main", commit=commit),
        ),
        kustomizations={"apps": models.KustomizationDefinition(path="./apps")},
    )


@pytest.fixture
def strict_client(emulator: Emulator) -> Iterator[SourceControlConfigurationClient]:
    """No automatic retries, so 429 and 5xx reach the test."""
    with SourceControlConfigurationClient(
        emulator.credential(), SUBSCRIPTION, retry_total=0, **emulator.client_kwargs()
    ) as client:
        yield client


def test_throttling_is_429_with_retry_after(
    emulator: Emulator, strict_client: SourceControlConfigurationClient
) -> None:
    """Writes beyond the bucket get ARM's 429, Retry-After and remaining-writes headers, and
    the emulator counts the 429 (`GET /_emulator/throttled`)."""
    before = emulator.control.throttled()
    emulator.control.set_faults(
        throttle={
            "writes": {"bucket": 2, "refillPerSecond": 0.01},
            "reads": {"bucket": 250, "refillPerSecond": 25},
        }
    )
    for cluster in ("canary-1", "canary-2"):
        strict_client.flux_configurations.begin_create_or_update(
            *CLUSTER_ARGS, cluster, "baseline", configuration()
        ).result()
    with pytest.raises(HttpResponseError) as caught:
        strict_client.flux_configurations.begin_create_or_update(
            *CLUSTER_ARGS, "store-001", "baseline", configuration()
        )
    response = caught.value.response
    assert response.status_code == 429
    assert caught.value.error.code == "TooManyRequests"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert emulator.control.writes()[-1]["status"] == 429
    after = emulator.control.throttled()
    assert after == {**before, "writes": before["writes"] + 1}


def test_reads_carry_remaining_header_when_throttling_is_on(
    emulator: Emulator, strict_client: SourceControlConfigurationClient
) -> None:
    emulator.control.patch_faults(throttle={})
    headers: dict[str, str] = {}

    def hook(response: Any) -> None:
        headers.update(response.http_response.headers)

    list(strict_client.flux_configurations.list(*CLUSTER_ARGS, "canary-1", raw_response_hook=hook))
    assert headers.get("x-ms-ratelimit-remaining-subscription-reads") == "249"


def test_arm_error_rate_gives_5xx(
    emulator: Emulator, strict_client: SourceControlConfigurationClient
) -> None:
    emulator.control.patch_faults(armErrorRate=1.0)
    with pytest.raises(HttpResponseError) as caught:
        strict_client.flux_configurations.get(*CLUSTER_ARGS, "canary-1", "baseline")
    assert caught.value.status_code in {500, 503}
    assert caught.value.error.code in {"InternalServerError", "ServiceUnavailable"}
    emulator.control.patch_faults(armErrorRate=0.0)
    assert list(strict_client.flux_configurations.list(*CLUSTER_ARGS, "canary-1")) == []


def test_failure_rule_set_at_runtime(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    emulator.control.set_faults(
        failures=[{"commit": "1111", "clusters": {"ring": "canary"}, "reason": "HealthCheckFailed"}]
    )
    for cluster in ("canary-1", "store-001"):
        flux_client.flux_configurations.begin_create_or_update(
            *CLUSTER_ARGS, cluster, "baseline", configuration()
        ).result()

    def states() -> list[str] | None:
        found = [
            flux_client.flux_configurations.get(*CLUSTER_ARGS, c, "baseline").compliance_state
            for c in ("canary-1", "store-001")
        ]
        return found if "Pending" not in found else None

    assert eventually(states) == ["Non-Compliant", "Compliant"]


def test_out_of_band_edit_changes_the_config(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    flux_client.flux_configurations.begin_create_or_update(
        *CLUSTER_ARGS, "canary-1", "baseline", configuration()
    ).result()
    emulator.control.edit_configuration(
        "canary-1", "baseline", {"gitRepository": {"repositoryRef": {"commit": "c0ffee0"}}}
    )
    edited = flux_client.flux_configurations.get(*CLUSTER_ARGS, "canary-1", "baseline")
    assert edited.git_repository.repository_ref.commit == "c0ffee0"
    assert edited.system_data.last_modified_by == "someone@contoso.com"
    assert [w["method"] for w in emulator.control.writes()] == ["PUT"]


def test_control_api_clusters_and_reset(emulator: Emulator) -> None:
    control = emulator.control
    added = control.add_cluster("edge-1", tags={"ring": "canary"}, resourceGroup="rg-edge")
    assert added["id"].endswith(
        "/resourceGroups/rg-edge/providers/Microsoft.Kubernetes/connectedClusters/edge-1"
    )
    assert control.health()["clusters"] == 131
    control.set_connectivity("edge-1", "Expired")
    assert {c["name"]: c["connectivityStatus"] for c in control.clusters()}["edge-1"] == "Expired"
    control.remove_cluster("edge-1")
    control.move_branch("main", "c0ffee0")
    assert control.branches() == {"main": "c0ffee0"}
    control.reset()
    assert control.health()["clusters"] == 130
    assert control.branches()["main"].startswith("2b7e0c1f")


def test_manual_progression_from_the_control_api(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    """With manual progression nothing reconciles until POST /_emulator/flux/reconcile."""
    assert emulator.control.set_flux(progression="manual")["progression"] == "manual"
    flux_client.flux_configurations.begin_create_or_update(
        *CLUSTER_ARGS, "canary-1", "baseline", configuration()
    ).result()
    get = flux_client.flux_configurations.get
    assert get(*CLUSTER_ARGS, "canary-1", "baseline").compliance_state == "Pending"
    assert emulator.control.reconcile() == 1
    assert get(*CLUSTER_ARGS, "canary-1", "baseline").compliance_state == "Compliant"
