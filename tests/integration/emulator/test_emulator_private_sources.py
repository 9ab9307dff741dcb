"""Private sources and OCI through the 2024-11-01 / 2025-04-01 SDK (the split fluxConfigurations
package): Flux fails to fetch without accepted credentials, OCIRepository from 2024-11-01, and
both spellings of an OCI sourceSyncedCommitId."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient,
)
from azure.mgmt.kubernetesconfiguration.fluxconfigurations.models import FluxConfiguration
from emulator_support import CLUSTER_ARGS, HEAD, SUBSCRIPTION, fleet_scenario

from emulator.testing import Emulator
from tests.support import eventually, secret

pytestmark = pytest.mark.integration
SSH_URL = "ssh://git@ssh.dev.azure.com/v3/contoso/fleet/fleet-config"
HTTPS_URL = "https://dev.azure.com/contoso/fleet/_git/fleet-config"
OCI_URL = "oci://contoso.azurecr.io/fleet/baseline"
PRIVATE_KEY = secret(
    "private source's SSH key",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
)
DIGEST = "sha256:" + "4f" * 32
SOURCES = [
    {"url": SSH_URL, "private": True, "accept": {"sshPrivateKey": PRIVATE_KEY}},
    {
        "url": "https://dev.azure.com/contoso/*",
        "private": True,
        "accept": {"httpsUser": "git", "httpsKey": "pat-123", "localAuthRef": "git-creds"},
    },
    {"url": "oci://contoso.azurecr.io/*", "private": True, "accept": {"provider": "Azure"}},
]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def private_emulator(tls_dir: Any) -> Iterator[Emulator]:
    scenario = fleet_scenario()
    scenario["flux"] = {**scenario["flux"], "sources": SOURCES}
    with Emulator(scenario, tls_dir=tls_dir) as running:
        yield running


def mgmt(
    emulator: Emulator, api_version: str = "2025-04-01"
) -> KubernetesConfigurationFluxConfigurationsMgmtClient:
    return KubernetesConfigurationFluxConfigurationsMgmtClient(
        emulator.credential(), SUBSCRIPTION, api_version=api_version, **emulator.client_kwargs()
    )


def git_body(url: str, protected: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "scope": "cluster",
        "namespace": "flux-system",
        "sourceKind": "GitRepository",
        "gitRepository": {"url": url, "repositoryRef": {"branch": "main"}, **fields},
        "kustomizations": {"apps": {"path": "./apps"}},
    }
    if protected is not None:
        properties["configurationProtectedSettings"] = protected
    return {"properties": properties}


def oci_body(ref: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "properties": {
            "scope": "cluster",
            "namespace": "flux-system",
            "sourceKind": "OCIRepository",
            "ociRepository": {"url": OCI_URL, "repositoryRef": ref, **fields},
            "kustomizations": {"apps": {"path": "./apps"}},
        }
    }


def write_and_settle(
    client: KubernetesConfigurationFluxConfigurationsMgmtClient,
    body: dict[str, Any],
    cluster: str = "canary-1",
) -> FluxConfiguration:
    operations = client.flux_configurations
    operations.begin_create_or_update(*CLUSTER_ARGS, cluster, "baseline", body).result()

    def settled() -> FluxConfiguration | None:
        config = operations.get(*CLUSTER_ARGS, cluster, "baseline")
        assert config.properties is not None
        return config if config.properties.compliance_state != "Pending" else None

    return eventually(settled)


def source_condition(config: FluxConfiguration) -> Any:
    assert config.properties is not None and config.properties.statuses
    source = config.properties.statuses[0]
    assert source.status_conditions
    return source, source.status_conditions[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            git_body(SSH_URL, sshKnownHosts=b64("ssh.dev.azure.com ssh-rsa AAAA")),
            f"failed to checkout and determine revision: unable to clone '{SSH_URL}': ssh: "
            "handshake failed: ssh: unable to authenticate, attempted methods [none publickey], "
            "no supported methods remain",
        ),
        (
            git_body(HTTPS_URL, {"httpsKey": b64("wrong")}, httpsUser="git"),
            f"failed to checkout and determine revision: unable to clone '{HTTPS_URL}': "
            "authentication required",
        ),
        (
            oci_body({"tag": "v1.2.3"}),
            "failed to get credential from 'default': GET https://contoso.azurecr.io/v2/: "
            "unexpected status code 401 Unauthorized",
        ),
    ],
)
def test_without_accepted_credentials_the_source_fails(
    private_emulator: Emulator, body: dict[str, Any], message: str
) -> None:
    with mgmt(private_emulator) as client:
        config = write_and_settle(client, body)
    properties = config.properties
    assert properties is not None
    assert properties.compliance_state == "Non-Compliant"
    assert properties.source_synced_commit_id is None
    source, condition = source_condition(config)
    assert source.kind == body["properties"]["sourceKind"]
    assert source.compliance_state == "Non-Compliant"
    assert (condition.type, condition.status, condition.reason) == (
        "Ready",
        "False",
        "AuthenticationFailed",
    )
    assert condition.message == message
    assert properties.statuses is not None
    assert [s.status_conditions[0].reason for s in properties.statuses[1:]] == ["ArtifactFailed"]


@pytest.mark.parametrize(
    "body",
    [
        git_body(
            SSH_URL,
            {"sshPrivateKey": b64(PRIVATE_KEY)},
            sshKnownHosts=b64("ssh.dev.azure.com ssh-rsa AAAA"),
        ),
        git_body(HTTPS_URL, {"httpsKey": b64("pat-123")}, httpsUser="git"),
        git_body(HTTPS_URL, localAuthRef="git-creds"),
        oci_body({"tag": "v1.2.3"}, useWorkloadIdentity=True),
        git_body("https://github.com/contoso/public-fleet"),
    ],
)
def test_with_accepted_credentials_flux_fetches(
    private_emulator: Emulator, body: dict[str, Any]
) -> None:
    with mgmt(private_emulator) as client:
        config = write_and_settle(client, body)
    assert config.properties is not None
    assert config.properties.compliance_state == "Compliant"
    assert config.properties.configuration_protected_settings is None
    _, condition = source_condition(config)
    assert condition.reason == "GitOperationSucceed"


def test_a_patch_that_adds_the_key_makes_the_source_fetchable(private_emulator: Emulator) -> None:
    """PATCH keeps the settings it does not name and adds the key Flux was missing."""
    with mgmt(private_emulator) as client:
        failing = write_and_settle(client, git_body(HTTPS_URL, httpsUser="git"))
        assert failing.properties is not None
        assert failing.properties.compliance_state == "Non-Compliant"
        client.flux_configurations.begin_update(
            *CLUSTER_ARGS,
            "canary-1",
            "baseline",
            {"properties": {"configurationProtectedSettings": {"httpsKey": b64("pat-123")}}},
        ).result()

        def compliant() -> bool:
            config = client.flux_configurations.get(*CLUSTER_ARGS, "canary-1", "baseline")
            assert config.properties is not None
            return config.properties.source_synced_commit_id == f"main/{HEAD}"

        assert eventually(compliant)


def test_sources_can_change_at_runtime(private_emulator: Emulator) -> None:
    control = private_emulator.control
    shown = control.flux()["sources"]
    assert shown[0]["accept"]["sshPrivateKey"] == "<redacted>"
    assert PRIVATE_KEY not in str(control.flux())
    with mgmt(private_emulator) as client:
        config = write_and_settle(client, git_body(HTTPS_URL))
        assert config.properties is not None
        assert config.properties.compliance_state == "Non-Compliant"
        control.set_flux(sources=[{"url": HTTPS_URL, "private": False}])

        def fetched() -> bool:
            again = client.flux_configurations.get(*CLUSTER_ARGS, "canary-1", "baseline")
            assert again.properties is not None
            return again.properties.compliance_state == "Compliant"

        assert eventually(fetched)
    response = requests.patch(
        f"{private_emulator.endpoint}/_emulator/flux",
        json={"sources": [{"url": HTTPS_URL, "accept": {"localAuthRef": "x"}}]},
        verify=str(private_emulator.cert_path),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == "sources.0"


# ----------------------------------------------------------------------------- OCI
def test_oci_repository_from_2024_11_01(emulator: Emulator) -> None:
    with mgmt(emulator, "2024-11-01") as client:
        config = write_and_settle(client, oci_body({"digest": DIGEST}))
    assert config.properties is not None and config.properties.oci_repository is not None
    assert config.properties.oci_repository.url == OCI_URL
    assert config.properties.source_synced_commit_id == DIGEST


def test_2023_05_01_has_no_oci_repository(
    emulator: Emulator, flux_client: SourceControlConfigurationClient
) -> None:
    with mgmt(emulator, "2024-11-01") as client:
        write_and_settle(client, oci_body({"digest": DIGEST}))
    old = flux_client.flux_configurations.get(*CLUSTER_ARGS, "canary-1", "baseline")
    assert old.source_kind == "OCIRepository"
    assert "ociRepository" not in (old.additional_properties or {})
    raw = requests.get(
        emulator.endpoint
        + f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/Microsoft.Kubernetes"
        "/connectedClusters/canary-1/providers/Microsoft.KubernetesConfiguration"
        "/fluxConfigurations/baseline",
        params={"api-version": "2023-05-01"},
        headers={"Authorization": "Bearer x"},
        verify=str(emulator.cert_path),
        timeout=10,
    ).json()
    assert "ociRepository" not in raw["properties"]
    with pytest.raises(HttpResponseError) as caught:
        flux_client.flux_configurations.begin_create_or_update(
            *CLUSTER_ARGS, "canary-2", "baseline", oci_body({"digest": DIGEST})
        ).result()
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("form", "ref", "expected"),
    [
        ("digest", {"tag": "v1.2.3", "digest": DIGEST}, f"v1.2.3@{DIGEST}"),
        ("digest", {"digest": DIGEST}, DIGEST),
        ("bare", {"tag": "v1.2.3", "digest": DIGEST}, DIGEST.removeprefix("sha256:")),
    ],
)
def test_oci_synced_revision_forms(
    tls_dir: Any, form: str, ref: dict[str, Any], expected: str
) -> None:
    scenario = fleet_scenario()
    scenario["flux"] = {**scenario["flux"], "ociRevisionForm": form}
    with Emulator(scenario, tls_dir=tls_dir) as running, mgmt(running) as client:
        config = write_and_settle(client, oci_body(ref))
    assert config.properties is not None
    assert config.properties.source_synced_commit_id == expected


def test_oci_revision_form_per_cluster_at_runtime(emulator: Emulator) -> None:
    emulator.control.set_flux(ociRevisionRules=[{"clusters": "canary-2", "form": "bare"}])
    assert emulator.control.flux()["ociRevisionForm"] == "digest"
    with mgmt(emulator) as client:
        one = write_and_settle(client, oci_body({"digest": DIGEST}), "canary-1")
        two = write_and_settle(client, oci_body({"digest": DIGEST}), "canary-2")
    assert one.properties is not None and two.properties is not None
    assert one.properties.source_synced_commit_id == DIGEST
    assert two.properties.source_synced_commit_id == DIGEST.removeprefix("sha256:")
