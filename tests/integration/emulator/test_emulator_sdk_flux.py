"""The real azure-mgmt-kubernetesconfiguration client against the emulator over TLS."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.v2023_05_01 import models
from emulator_support import CLUSTER_ARGS, HEAD, SUBSCRIPTION

from emulator.testing import Emulator, StaticTokenCredential
from tests.support import eventually

pytestmark = pytest.mark.integration
GOOD = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
BAD = "bad0c0ffee000000000000000000000000000000"


def configuration(commit: str | None = GOOD) -> models.FluxConfiguration:
    return models.FluxConfiguration(
        scope="cluster",
        namespace="flux-system",
        source_kind="GitRepository",
        git_repository=models.GitRepositoryDefinition(
            url="https://github.com/contoso/fleet-config",
            repository_ref=models.RepositoryRefDefinition(branch="main", commit=commit),
        ),
        kustomizations={
            "infra": models.KustomizationDefinition(path="./infrastructure", prune=True),
            "apps": models.KustomizationDefinition(path="./apps", depends_on=["infra"]),
        },
    )


def create(
    client: SourceControlConfigurationClient, cluster: str, commit: str | None = GOOD
) -> models.FluxConfiguration:
    poller = client.flux_configurations.begin_create_or_update(
        *CLUSTER_ARGS, cluster, "baseline", configuration(commit)
    )
    return poller.result()


def get(
    client: SourceControlConfigurationClient, cluster: str, name: str = "baseline"
) -> models.FluxConfiguration:
    return client.flux_configurations.get(*CLUSTER_ARGS, cluster, name)


def test_create_polls_to_completion_and_reaches_compliance(
    flux_client: SourceControlConfigurationClient,
) -> None:
    """PUT -> Azure-AsyncOperation polling -> final GET; then Flux reports Compliant."""
    created = create(flux_client, "canary-1")
    assert created.provisioning_state == "Succeeded"
    assert created.compliance_state in {"Pending", "Compliant"}
    done = eventually(
        lambda: (c := get(flux_client, "canary-1")).compliance_state == "Compliant" and c
    )
    assert done.source_synced_commit_id == f"main/{GOOD}"
    assert [s.status_conditions[0].reason for s in done.statuses] == [
        "GitOperationSucceed",
        "ReconciliationSucceeded",
        "ReconciliationSucceeded",
    ]
    assert done.kustomizations["apps"].depends_on == ["infra"]


def test_failing_commit_ends_non_compliant(flux_client: SourceControlConfigurationClient) -> None:
    create(flux_client, "canary-2", BAD)
    done = eventually(
        lambda: (c := get(flux_client, "canary-2")).compliance_state == "Non-Compliant" and c
    )
    assert done.source_synced_commit_id == f"main/{BAD}"
    assert done.statuses[1].status_conditions[0].reason == "HealthCheckFailed"


def test_second_put_updates_with_200(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    create(flux_client, "canary-1")
    create(flux_client, "canary-1", BAD)
    writes = emulator.control.writes()
    assert [(w["method"], w["status"], w["commit"]) for w in writes] == [
        ("PUT", 201, GOOD),
        ("PUT", 200, BAD),
    ]
    assert writes[0]["clusterId"].endswith("/connectedClusters/canary-1")
    assert set(writes[0]) == {
        "time",
        "clusterId",
        "cluster",
        "configuration",
        "method",
        "commit",
        "branch",
        "status",
    }


def test_patch_is_a_merge_patch(flux_client: SourceControlConfigurationClient) -> None:
    """PATCH with a null kustomization removes it; other fields stay."""
    create(flux_client, "canary-1")
    patch = models.FluxConfigurationPatch(kustomizations={"apps": None})
    updated = flux_client.flux_configurations.begin_update(
        *CLUSTER_ARGS, "canary-1", "baseline", patch
    ).result()
    assert list(updated.kustomizations) == ["infra"]
    assert updated.git_repository.repository_ref.commit == GOOD
    pin = models.FluxConfigurationPatch(
        git_repository=models.GitRepositoryPatchDefinition(
            repository_ref=models.RepositoryRefDefinition(branch="main", commit=BAD)
        )
    )
    repinned = flux_client.flux_configurations.begin_update(
        *CLUSTER_ARGS, "canary-1", "baseline", pin
    ).result()
    assert repinned.git_repository.repository_ref.commit == BAD
    assert repinned.git_repository.url == "https://github.com/contoso/fleet-config"


def test_delete_then_get_is_404(flux_client: SourceControlConfigurationClient) -> None:
    create(flux_client, "canary-1")
    flux_client.flux_configurations.begin_delete(*CLUSTER_ARGS, "canary-1", "baseline").result()
    with pytest.raises(ResourceNotFoundError) as caught:
        get(flux_client, "canary-1")
    assert caught.value.error.code == "ResourceNotFound"


def test_force_delete_on_offline_cluster(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    create(flux_client, "store-007")
    assert get(flux_client, "store-007").compliance_state == "Pending"
    flux_client.flux_configurations.begin_delete(
        *CLUSTER_ARGS, "store-007", "baseline", force_delete=True
    ).result()
    assert list(flux_client.flux_configurations.list(*CLUSTER_ARGS, "store-007")) == []
    assert emulator.control.writes()[-1]["method"] == "DELETE"


def test_list_configurations(flux_client: SourceControlConfigurationClient) -> None:
    create(flux_client, "canary-1")
    names = [c.name for c in flux_client.flux_configurations.list(*CLUSTER_ARGS, "canary-1")]
    assert names == ["baseline"]


def test_operation_status_endpoint(flux_client: SourceControlConfigurationClient) -> None:
    urls: list[str] = []

    def hook(response: Any) -> None:
        url = response.http_response.headers.get("Azure-AsyncOperation")
        if url:
            urls.append(url)

    flux_client.flux_configurations.begin_create_or_update(
        *CLUSTER_ARGS, "canary-1", "baseline", configuration(), raw_response_hook=hook
    ).result()
    operation_id = urls[0].split("/operations/")[1].split("?")[0]
    status = flux_client.flux_config_operation_status.get(
        *CLUSTER_ARGS, "canary-1", "baseline", operation_id
    )
    assert status.status == "Succeeded"


def test_invalid_body_is_400_with_arm_code(flux_client: SourceControlConfigurationClient) -> None:
    bad = configuration()
    bad.kustomizations["apps"].depends_on = ["missing"]
    with pytest.raises(HttpResponseError) as caught:
        flux_client.flux_configurations.begin_create_or_update(
            *CLUSTER_ARGS, "canary-1", "baseline", bad
        )
    assert caught.value.status_code == 400
    assert caught.value.error.code == "BadRequest"
    assert "depends on 'missing'" in caught.value.error.message
    assert caught.value.error.target == "properties.kustomizations.apps.dependsOn"


def test_unknown_cluster_is_parent_not_found(flux_client: SourceControlConfigurationClient) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        get(flux_client, "no-such-cluster")
    assert caught.value.error.code == "ParentResourceNotFound"


def test_branch_head_move_reaches_every_following_cluster(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    """Without a commit pin every cluster follows main: a push lands everywhere at once."""
    clusters = ["canary-1", "canary-2", "store-001"]
    for cluster in clusters:
        create(flux_client, cluster, commit=None)
    eventually(
        lambda: all(get(flux_client, c).source_synced_commit_id == f"main/{HEAD}" for c in clusters)
    )
    assert emulator.control.move_branch("main", BAD)["scheduled"] == 3
    eventually(
        lambda: all(get(flux_client, c).compliance_state == "Non-Compliant" for c in clusters)
    )


def test_offline_cluster_reconciles_after_reconnect(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    create(flux_client, "store-007")
    assert get(flux_client, "store-007").compliance_state == "Pending"
    emulator.control.set_connectivity("store-007", "Connected")
    eventually(lambda: get(flux_client, "store-007").compliance_state == "Compliant")


def test_missing_token_is_401(emulator: Emulator) -> None:
    with (
        SourceControlConfigurationClient(
            StaticTokenCredential(""), SUBSCRIPTION, **emulator.client_kwargs()
        ) as client,
        pytest.raises(ClientAuthenticationError) as caught,
    ):
        get(client, "canary-1")
    assert caught.value.status_code == 401
