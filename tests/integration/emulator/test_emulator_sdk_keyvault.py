"""The real azure-keyvault-secrets SecretClient against the emulator's Key Vault stand-in."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from emulator_support import fleet_scenario

from emulator.testing import Emulator
from tests.support import secret

pytestmark = pytest.mark.integration
TENANT = "00000000-0000-0000-0000-0000000000aa"
SECRET_VALUE = secret(
    "Key Vault secret fleet-ssh-key", "-----BEGIN OPENSSH PRIVATE KEY-----not-a-real-key"
)


class RecordingCredential:
    """A TokenCredential that remembers what the challenge made the SDK ask for."""

    def __init__(self) -> None:
        self.requests: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.requests.append((scopes, dict(kwargs)))
        return AccessToken("vault-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.requests.append((scopes, dict(options or {})))
        return AccessTokenInfo("vault-token", int(time.time()) + 3600)


@pytest.fixture
def vault(tls_dir: Any) -> Iterator[Emulator]:
    scenario = fleet_scenario(keyVault={"secrets": {"fleet-ssh-key": SECRET_VALUE}})
    with Emulator(scenario, tls_dir=tls_dir) as running:
        yield running


def client(emulator: Emulator, credential: Any = None, **kwargs: Any) -> SecretClient:
    return SecretClient(
        emulator.vault_url,
        credential or emulator.credential(),
        verify_challenge_resource=False,
        connection_verify=str(emulator.cert_path),
        **kwargs,
    )


def test_get_secret_after_the_challenge(vault: Emulator) -> None:
    credential = RecordingCredential()
    secret = client(vault, credential).get_secret("fleet-ssh-key")
    assert secret.value == SECRET_VALUE
    assert secret.name == "fleet-ssh-key"
    version = secret.properties.version
    assert version is not None and len(version) == 32
    assert secret.id == f"{vault.vault_url}/secrets/fleet-ssh-key/{version}"
    assert secret.properties.enabled is True
    assert secret.properties.created_on is not None
    assert secret.properties.updated_on == secret.properties.created_on
    assert secret.properties.recovery_level == "Recoverable+Purgeable"
    assert secret.properties.tags == {}
    # The token was asked for the resource and tenant the 401 challenge named.
    assert credential.requests
    scopes, options = credential.requests[0]
    assert scopes == ("https://vault.azure.net/.default",)
    assert options.get("tenant_id") == TENANT


def test_a_request_without_a_token_gets_the_challenge(vault: Emulator) -> None:
    response = requests.get(
        f"{vault.vault_url}/secrets/fleet-ssh-key",
        params={"api-version": "2026-04-01"},
        verify=str(vault.cert_path),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", '
        'resource="https://vault.azure.net"'
    )
    assert response.json()["error"]["code"] == "Unauthorized"
    assert SECRET_VALUE not in response.text


def test_the_sdk_refuses_a_loopback_vault_unless_told_not_to_verify(vault: Emulator) -> None:
    strict = SecretClient(
        vault.vault_url, vault.credential(), connection_verify=str(vault.cert_path)
    )
    with pytest.raises(ValueError, match="does not match the requested domain"):
        strict.get_secret("fleet-ssh-key")


def test_unknown_secret_is_404_secret_not_found(vault: Emulator) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        client(vault).get_secret("no-such-secret")
    assert caught.value.status_code == 404
    assert caught.value.error is not None
    assert caught.value.error.code == "SecretNotFound"
    assert caught.value.error.message.startswith(
        "A secret with (name/id) no-such-secret was not found in this key vault."
    )
    with pytest.raises(ResourceNotFoundError):
        client(vault).get_secret("fleet-ssh-key", "0" * 32)


def test_each_set_is_a_new_version(vault: Emulator) -> None:
    secrets = client(vault)
    first = secrets.get_secret("fleet-ssh-key")
    answer = vault.control.set_secret("fleet-ssh-key", "rotated")
    assert set(answer) == {"name", "version", "versions"}
    assert answer["versions"] == 2
    latest = secrets.get_secret("fleet-ssh-key")
    assert (latest.value, latest.properties.version) == ("rotated", answer["version"])
    older = secrets.get_secret("fleet-ssh-key", first.properties.version)
    assert older.value == SECRET_VALUE
    vault.control.set_secret("ado-pat", "pat-123")
    assert vault.control.secrets() == ["ado-pat", "fleet-ssh-key"]
    assert secrets.get_secret("ADO-PAT").value == "pat-123"  # names are case-insensitive
    vault.control.delete_secret("ado-pat")
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret("ado-pat")
    vault.control.reset()
    assert secrets.get_secret("fleet-ssh-key").value == SECRET_VALUE


@pytest.mark.parametrize("api_version", ["7.0", "7.4", "7.6", "2025-07-01", "2026-04-01"])
def test_every_api_version_the_sdk_sends(vault: Emulator, api_version: str) -> None:
    secret = client(vault, api_version=api_version).get_secret("fleet-ssh-key")
    assert secret.value == SECRET_VALUE


def test_unknown_api_version_and_unemulated_operations(vault: Emulator) -> None:
    auth = {"Authorization": "Bearer x"}
    url = f"{vault.vault_url}/secrets/fleet-ssh-key"
    bad = requests.get(
        url, params={"api-version": "1.0"}, headers=auth, verify=str(vault.cert_path), timeout=10
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "BadParameter")
    with pytest.raises(HttpResponseError) as caught:
        client(vault).set_secret("fleet-ssh-key", "from-the-app")
    assert caught.value.status_code == 501
    assert client(vault).get_secret("fleet-ssh-key").value == SECRET_VALUE


def test_control_api_validates_and_never_lists_values(vault: Emulator) -> None:
    response = requests.put(
        f"{vault.endpoint}/_emulator/keyvault/secrets/bad_name",
        json={"value": "x"},
        verify=str(vault.cert_path),
        timeout=10,
    )
    assert response.status_code == 400
    response = requests.put(
        f"{vault.endpoint}/_emulator/keyvault/secrets/ok",
        json={"value": 5},
        verify=str(vault.cert_path),
        timeout=10,
    )
    assert response.status_code == 400
    listed = requests.get(
        f"{vault.endpoint}/_emulator/keyvault/secrets", verify=str(vault.cert_path), timeout=10
    )
    assert listed.json() == ["fleet-ssh-key"]
    assert SECRET_VALUE not in listed.text


def test_values_are_never_logged(vault: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    vault.control.set_secret("fleet-ssh-key", secret("rotated secret", "rotated-value-xyz"))
    assert client(vault).get_secret("fleet-ssh-key").value == "rotated-value-xyz"
    with pytest.raises(ResourceNotFoundError):
        client(vault).get_secret("missing")
    assert "rotated-value-xyz" not in caplog.text
    assert SECRET_VALUE not in caplog.text
