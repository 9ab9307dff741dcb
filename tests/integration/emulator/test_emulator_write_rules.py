"""ARM write rules through the real SDKs: write-only protected settings, create-only scope and
namespace, and 409 Conflict while a configuration is being deleted."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient,
)
from azure.mgmt.kubernetesconfiguration.v2023_05_01 import models
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest
from emulator_support import CLUSTER_ARGS, SUBSCRIPTION, fleet_scenario

from emulator.testing import Emulator
from tests.support import eventually

pytestmark = pytest.mark.integration
COMMIT = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SSH_KEY = base64.b64encode(b"-----BEGIN OPENSSH PRIVATE KEY-----").decode()
HTTPS_KEY = base64.b64encode(b"pat-123").decode()
CONFIG_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/Microsoft.Kubernetes"
    "/connectedClusters/{cluster}/providers/Microsoft.KubernetesConfiguration"
    "/fluxConfigurations/{name}"
)


def configuration(
    protected: dict[str, str] | None = None, scope: str = "cluster", namespace: str = "flux-system"
) -> models.FluxConfiguration:
    return models.FluxConfiguration(
        scope=scope,
        namespace=namespace,
        source_kind="GitRepository",
        git_repository=models.GitRepositoryDefinition(
            url="ssh://git@ssh.dev.azure.com/v3/contoso/fleet/fleet-config",
            ssh_known_hosts=base64.b64encode(b"ssh.dev.azure.com ssh-rsa AAAA").decode(),
            repository_ref=models.RepositoryRefDefinition(branch="main", commit=COMMIT),
        ),
        kustomizations={"apps": models.KustomizationDefinition(path="./apps")},
        configuration_protected_settings=protected,
    )


def put(
    client: SourceControlConfigurationClient,
    body: models.FluxConfiguration,
    cluster: str = "canary-1",
) -> models.FluxConfiguration:
    return client.flux_configurations.begin_create_or_update(
        *CLUSTER_ARGS, cluster, "baseline", body
    ).result()


def patch(
    client: SourceControlConfigurationClient, body: models.FluxConfigurationPatch
) -> models.FluxConfiguration:
    return client.flux_configurations.begin_update(
        *CLUSTER_ARGS, "canary-1", "baseline", body
    ).result()


def raw_get(emulator: Emulator, path: str, version: str) -> dict[str, Any]:
    response = requests.get(
        emulator.endpoint + path,
        params={"api-version": version},
        headers={"Authorization": "Bearer test"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stored(emulator: Emulator) -> dict[str, Any]:
    return emulator.control.protected_settings("canary-1", "baseline")


# ----------------------------------------------------------------- protected settings
def test_protected_settings_are_stored_but_never_returned(
    emulator: Emulator,
    flux_client: SourceControlConfigurationClient,
    graph_client: ResourceGraphClient,
) -> None:
    created = put(flux_client, configuration({"sshPrivateKey": SSH_KEY}))
    assert created.configuration_protected_settings is None
    fetched = flux_client.flux_configurations.get(*CLUSTER_ARGS, "canary-1", "baseline")
    assert fetched.configuration_protected_settings is None
    listed = list(flux_client.flux_configurations.list(*CLUSTER_ARGS, "canary-1"))
    assert [c.configuration_protected_settings for c in listed] == [None]
    path = CONFIG_PATH.format(cluster="canary-1", name="baseline")
    for version in ("2023-05-01", "2024-11-01", "2025-04-01"):
        one = raw_get(emulator, path, version)
        assert "configurationProtectedSettings" not in one["properties"]
        many = raw_get(emulator, path.rsplit("/", 1)[0], version)
        assert "configurationProtectedSettings" not in many["value"][0]["properties"]
        assert SSH_KEY not in str(one) + str(many)
    rows = graph_client.resources(
        QueryRequest(
            subscriptions=[SUBSCRIPTION],
            query="kubernetesconfigurationresources | project id, properties",
        )
    ).data
    assert rows and "configurationProtectedSettings" not in rows[0]["properties"]
    assert SSH_KEY not in str(rows)
    assert stored(emulator) == {"keys": ["sshPrivateKey"], "values": {"sshPrivateKey": SSH_KEY}}


def test_patch_merges_protected_settings_and_null_removes_one(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    put(flux_client, configuration({"sshPrivateKey": SSH_KEY}))
    patch(flux_client, models.FluxConfigurationPatch(suspend=False))
    assert stored(emulator)["keys"] == ["sshPrivateKey"]
    patch(
        flux_client,
        models.FluxConfigurationPatch(configuration_protected_settings={"httpsKey": HTTPS_KEY}),
    )
    assert stored(emulator)["values"] == {"sshPrivateKey": SSH_KEY, "httpsKey": HTTPS_KEY}
    removed = patch(
        flux_client,
        models.FluxConfigurationPatch(configuration_protected_settings={"sshPrivateKey": None}),
    )
    assert removed.configuration_protected_settings is None
    assert stored(emulator) == {"keys": ["httpsKey"], "values": {"httpsKey": HTTPS_KEY}}


def test_put_without_protected_settings_drops_them(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    put(flux_client, configuration({"sshPrivateKey": SSH_KEY, "httpsKey": HTTPS_KEY}))
    put(flux_client, configuration({"httpsKey": HTTPS_KEY}))
    assert stored(emulator)["keys"] == ["httpsKey"]
    put(flux_client, configuration())
    assert stored(emulator) == {"keys": [], "values": {}}


def test_protected_read_of_an_unknown_configuration_is_404(emulator: Emulator) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        stored(emulator)
    assert caught.value.response.status_code == 404


# ----------------------------------------------------------------- create-only fields
@pytest.mark.parametrize(
    ("change", "field"),
    [({"scope": "namespace"}, "scope"), ({"namespace": "other-system"}, "namespace")],
)
def test_put_changing_a_create_only_field_is_400(
    emulator: Emulator,
    flux_client: SourceControlConfigurationClient,
    change: dict[str, str],
    field: str,
) -> None:
    put(flux_client, configuration())
    with pytest.raises(HttpResponseError) as caught:
        put(flux_client, configuration(**change))
    error = caught.value
    assert error.status_code == 400
    assert error.error is not None
    assert error.error.code == "InvalidRequestContent"
    assert error.error.target == f"properties.{field}"
    assert f"Property '{field}'" in error.error.message
    assert "can only be set when the configuration is created" in error.error.message
    again = put(flux_client, configuration())
    assert (again.scope, again.namespace) == ("cluster", "flux-system")
    assert [w["status"] for w in emulator.control.writes()] == [201, 400, 200]


def test_patch_changing_a_create_only_field_is_400(
    flux_client_2025: KubernetesConfigurationFluxConfigurationsMgmtClient,
) -> None:
    """The 3.1.0 patch model has no scope/namespace; the 2025-04-01 client sends raw JSON."""
    body = {
        "properties": {
            "scope": "cluster",
            "namespace": "flux-system",
            "sourceKind": "GitRepository",
            "gitRepository": {
                "url": "https://github.com/contoso/fleet",
                "repositoryRef": {"branch": "main"},
            },
        }
    }
    operations = flux_client_2025.flux_configurations
    operations.begin_create_or_update(*CLUSTER_ARGS, "canary-1", "baseline", body).result()
    with pytest.raises(HttpResponseError) as caught:
        operations.begin_update(
            *CLUSTER_ARGS, "canary-1", "baseline", {"properties": {"namespace": "apps"}}
        ).result()
    assert caught.value.status_code == 400
    assert caught.value.error is not None
    assert caught.value.error.code == "InvalidRequestContent"
    same = operations.begin_update(
        *CLUSTER_ARGS, "canary-1", "baseline", {"properties": {"namespace": "flux-system"}}
    ).result()
    assert same.properties is not None and same.properties.namespace == "flux-system"


# ----------------------------------------------------------------- 409 while deleting
def test_writes_to_a_configuration_being_deleted_are_409(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    """store-007 is offline: its deletion waits for the agent, so the config stays Deleting."""
    put(flux_client, configuration(), cluster="store-007")
    flux_client.flux_configurations.begin_delete(
        *CLUSTER_ARGS, "store-007", "baseline", polling=False
    ).result()
    deleting = flux_client.flux_configurations.get(*CLUSTER_ARGS, "store-007", "baseline")
    assert deleting.provisioning_state == "Deleting"
    with pytest.raises(ResourceExistsError) as caught:
        put(flux_client, configuration(), cluster="store-007")
    assert caught.value.status_code == 409
    assert caught.value.error is not None
    assert caught.value.error.code == "Conflict"
    assert "is being deleted" in caught.value.error.message
    with pytest.raises(ResourceExistsError):
        flux_client.flux_configurations.begin_update(
            *CLUSTER_ARGS, "store-007", "baseline", models.FluxConfigurationPatch(suspend=True)
        ).result()
    assert [(w["method"], w["status"], w["commit"]) for w in emulator.control.writes()] == [
        ("PUT", 201, COMMIT),
        ("DELETE", 202, COMMIT),
        ("PUT", 409, COMMIT),
        ("PATCH", 409, None),
    ]
    emulator.control.set_connectivity("store-007", "Connected")

    def deleted() -> bool:
        (store,) = [c for c in emulator.control.clusters() if c["name"] == "store-007"]
        return not store["configurations"]

    assert eventually(deleted)
    assert put(flux_client, configuration(), cluster="store-007").provisioning_state == (
        "Succeeded"
    )


@pytest.fixture
def slow_emulator(tls_dir: Any) -> Iterator[Emulator]:
    with Emulator(fleet_scenario(arm={"operationSeconds": 1.0}), tls_dir=tls_dir) as running:
        yield running


def test_deleting_lasts_the_operation_time(slow_emulator: Emulator) -> None:
    with SourceControlConfigurationClient(
        slow_emulator.credential(), SUBSCRIPTION, **slow_emulator.client_kwargs()
    ) as client:
        put(client, configuration())
        poller = client.flux_configurations.begin_delete(*CLUSTER_ARGS, "canary-1", "baseline")
        with pytest.raises(ResourceExistsError):
            put(client, configuration())
        poller.result()
        assert put(client, configuration()).provisioning_state == "Succeeded"
    statuses = [(w["method"], w["status"]) for w in slow_emulator.control.writes()]
    assert statuses == [("PUT", 201), ("DELETE", 202), ("PUT", 409), ("PUT", 201)]
