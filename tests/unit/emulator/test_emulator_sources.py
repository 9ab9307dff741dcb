"""Private sources Flux cannot fetch without credentials, and how OCI revisions are spelled."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from emulator.backend import Backend
from emulator.connectedclusters.models import ConnectedCluster
from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.private_sources import HTTPS_AUTH_FAILED_MSG, OCI_AUTH_FAILED_MSG, SSH_AUTH_FAILED_MSG
from emulator.revisions import Revision
from emulator.scenario import Scenario
from tests.support import secret

HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
SSH_URL = "ssh://git@ssh.dev.azure.com/v3/contoso/fleet/fleet-config"
HTTPS_URL = "https://dev.azure.com/contoso/fleet/_git/fleet-config"
OCI_URL = "oci://contoso.azurecr.io/fleet/baseline"
PRIVATE_KEY = secret(
    "private source's SSH key",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----",
)
CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
CLIENT_KEY = secret(
    "OCI client certificate key", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
)
DIGEST_HEX = "4f" * 32


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_backend(**flux: Any) -> tuple[Backend, FakeClock]:
    clock = FakeClock()
    scenario = Scenario.model_validate(
        {
            "clusters": [
                {"name": "canary-1", "tags": {"ring": "canary"}},
                {"name": "store-001", "tags": {"ring": "broad"}},
            ],
            "flux": {
                "branchHeads": {"main": HEAD},
                "progression": "immediate",
                "sources": [
                    {"url": SSH_URL, "private": True, "accept": {"sshPrivateKey": PRIVATE_KEY}},
                    {
                        "url": "https://dev.azure.com/contoso/*",
                        "private": True,
                        "accept": {
                            "httpsUser": "git",
                            "httpsKey": "pat-123",
                            "localAuthRef": "fleet-git-credentials",
                            "provider": "Azure",
                        },
                    },
                    {
                        "url": "oci://contoso.azurecr.io/*",
                        "private": True,
                        "accept": {
                            "tls": {"clientCertificate": CLIENT_CERT, "privateKey": CLIENT_KEY},
                            "provider": "Azure",
                        },
                    },
                    {"url": "https://github.com/contoso/*", "private": False},
                ],
                **flux,
            },
            "arm": {"operationSeconds": 0.5},
        }
    )
    return Backend(scenario, clock=clock), clock


@pytest.fixture
def backend() -> Backend:
    return make_backend()[0]


def cluster(backend: Backend, name: str = "canary-1") -> ConnectedCluster:
    (found,) = backend.clusters_named(name)
    return found


def settle(backend: Backend) -> None:
    """Past the async operation; ``immediate`` progression reconciles in the same step."""
    assert isinstance(backend.clock, FakeClock)
    backend.clock.now += 1.0
    backend.advance()


def git(url: str, *, protected: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "sourceKind": "GitRepository",
        "gitRepository": {"url": url, "repositoryRef": {"branch": "main"}, **fields},
        "kustomizations": {"infra": {"path": "./infra"}, "apps": {"dependsOn": ["infra"]}},
        "configurationProtectedSettings": protected,
    }


def oci(url: str = OCI_URL, ref: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "sourceKind": "OCIRepository",
        "ociRepository": {"url": url, "repositoryRef": ref or {"tag": "v1.2.3"}, **fields},
        "kustomizations": {"apps": {"path": "./apps"}},
    }


def write(
    backend: Backend, properties: dict[str, Any], name: str = "canary-1"
) -> FluxConfiguration:
    config, _, _ = backend.put_configuration(
        cluster(backend, name), "baseline", properties, "2025-04-01"
    )
    settle(backend)
    return config


def source_condition(config: FluxConfiguration) -> dict[str, Any]:
    condition: dict[str, Any] = config.statuses[0]["statusConditions"][0]
    return condition


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (git(SSH_URL), SSH_AUTH_FAILED_MSG.format(url=SSH_URL)),
        (
            # the right key but no known hosts: Flux will not connect
            git(SSH_URL, protected={"sshPrivateKey": b64(PRIVATE_KEY)}),
            SSH_AUTH_FAILED_MSG.format(url=SSH_URL),
        ),
        (
            git(SSH_URL, protected={"sshPrivateKey": b64("another key")}, sshKnownHosts="aG9zdA=="),
            SSH_AUTH_FAILED_MSG.format(url=SSH_URL),
        ),
        (git(HTTPS_URL), HTTPS_AUTH_FAILED_MSG.format(url=HTTPS_URL)),
        (
            git(HTTPS_URL, protected={"httpsKey": b64("wrong")}, httpsUser="git"),
            HTTPS_AUTH_FAILED_MSG.format(url=HTTPS_URL),
        ),
        (
            # not base64: never decodes to the key
            git(HTTPS_URL, protected={"httpsKey": "pat-123"}, httpsUser="git"),
            HTTPS_AUTH_FAILED_MSG.format(url=HTTPS_URL),
        ),
        (
            git(HTTPS_URL, localAuthRef="some-other-secret"),
            HTTPS_AUTH_FAILED_MSG.format(url=HTTPS_URL),
        ),
        (git(HTTPS_URL, provider="GitHub"), HTTPS_AUTH_FAILED_MSG.format(url=HTTPS_URL)),
        (oci(), OCI_AUTH_FAILED_MSG.format(registry="https://contoso.azurecr.io/v2/")),
        (
            oci(tlsConfig={"clientCertificate": b64(CLIENT_CERT), "privateKey": b64("x")}),
            OCI_AUTH_FAILED_MSG.format(registry="https://contoso.azurecr.io/v2/"),
        ),
    ],
)
def test_private_source_without_accepted_credentials_fails_authentication(
    backend: Backend, properties: dict[str, Any], message: str
) -> None:
    config = write(backend, properties)
    assert config.compliance_state == "Non-Compliant"
    assert config.source_synced_commit_id is None
    source = config.statuses[0]
    assert source["kind"] == properties["sourceKind"]
    assert source["complianceState"] == "Non-Compliant"
    condition = source_condition(config)
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "Ready",
        "False",
        "AuthenticationFailed",
    )
    assert condition["message"] == message
    assert config.error_message == message
    kustomizations = config.statuses[1:]
    assert kustomizations
    assert {s["statusConditions"][0]["reason"] for s in kustomizations} == {"ArtifactFailed"}


@pytest.mark.parametrize(
    "properties",
    [
        git(SSH_URL, protected={"sshPrivateKey": b64(PRIVATE_KEY)}, sshKnownHosts="aG9zdA=="),
        # surrounding whitespace (a YAML block scalar's newline) does not matter
        git(
            SSH_URL, protected={"sshPrivateKey": b64(PRIVATE_KEY + "\n")}, sshKnownHosts="aG9zdA=="
        ),
        git(HTTPS_URL, protected={"httpsKey": b64("pat-123")}, httpsUser="git"),
        git(HTTPS_URL, localAuthRef="fleet-git-credentials"),
        git(HTTPS_URL, provider="Azure"),
        oci(useWorkloadIdentity=True),
        oci(tlsConfig={"clientCertificate": b64(CLIENT_CERT), "privateKey": b64(CLIENT_KEY)}),
        git("https://github.com/contoso/public-fleet"),
        git("https://gitlab.com/contoso/not-listed"),
    ],
)
def test_accepted_credentials_or_public_sources_reconcile(
    backend: Backend, properties: dict[str, Any]
) -> None:
    config = write(backend, properties)
    assert config.compliance_state == "Compliant", config.error_message
    assert source_condition(config)["reason"] == "GitOperationSucceed"
    assert config.source_synced_commit_id


def test_a_failed_fetch_keeps_the_last_synced_revision(backend: Backend) -> None:
    good = git(HTTPS_URL, protected={"httpsKey": b64("pat-123")}, httpsUser="git")
    config = write(backend, good)
    assert config.source_synced_commit_id == f"main/{HEAD}"
    rotated = git(HTTPS_URL, protected={"httpsKey": b64("expired")}, httpsUser="git")
    write(backend, rotated)
    assert config.compliance_state == "Non-Compliant"
    assert source_condition(config)["reason"] == "AuthenticationFailed"
    assert config.source_synced_commit_id == f"main/{HEAD}"


def test_changing_the_sources_retries_configurations_that_failed(backend: Backend) -> None:
    config = write(backend, git(HTTPS_URL))
    assert config.compliance_state == "Non-Compliant"
    backend.flux.sources = []
    assert backend.retry_failed_sources() == 1
    settle(backend)
    assert config.compliance_state == "Compliant"


@pytest.mark.parametrize(
    ("form", "ref", "synced"),
    [
        ("digest", {"tag": "v1.2.3"}, "v1.2.3@sha256:"),
        ("bare", {"tag": "v1.2.3"}, ""),
        ("digest", {"digest": f"sha256:{DIGEST_HEX}"}, f"sha256:{DIGEST_HEX}"),
        ("bare", {"digest": f"sha256:{DIGEST_HEX}"}, DIGEST_HEX),
        ("digest", {"tag": "v2", "digest": f"sha256:{DIGEST_HEX}"}, f"v2@sha256:{DIGEST_HEX}"),
    ],
)
def test_oci_revision_forms(form: str, ref: dict[str, Any], synced: str) -> None:
    backend, _ = make_backend(ociRevisionForm=form, sources=[])
    config = write(backend, oci(ref=ref))
    assert config.compliance_state == "Compliant"
    value = config.source_synced_commit_id or ""
    assert value.startswith(synced)
    if form == "bare":
        assert len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    assert source_condition(config)["message"] == f"'Fetched revision: {value}'"


def test_oci_revision_form_per_cluster() -> None:
    backend, _ = make_backend(
        sources=[], ociRevisionRules=[{"clusters": {"ring": "broad"}, "form": "bare"}]
    )
    canary = write(backend, oci(ref={"digest": f"sha256:{DIGEST_HEX}"}), "canary-1")
    store = write(backend, oci(ref={"digest": f"sha256:{DIGEST_HEX}"}), "store-001")
    assert canary.source_synced_commit_id == f"sha256:{DIGEST_HEX}"
    assert store.source_synced_commit_id == DIGEST_HEX


def test_flux_events_always_name_the_oci_digest() -> None:
    """Flux's own events (RFC-0005) are not Azure's field: always tag@sha256:<hex>."""
    revision = Revision("v1", f"sha256:{DIGEST_HEX}", oci_form="bare")
    assert revision.synced_id == DIGEST_HEX
    assert revision.flux_revision == f"v1@sha256:{DIGEST_HEX}"
    assert Revision("main", HEAD).flux_revision == f"main@sha1:{HEAD}"
