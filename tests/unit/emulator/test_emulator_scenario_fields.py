"""Scenario fields for private sources, OCI revision forms, Key Vault secrets and
connectivity: valid shapes load, mistakes get clear errors that never echo a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emulator.keyvault.models import Vault
from emulator.scenario import parse_scenario

FULL = """
clusters:
  - {name: canary-1, connectivityStatus: AgentNotInstalled}
flux:
  ociRevisionForm: bare
  ociRevisionRules: [{clusters: {ring: canary}, form: digest}]
  sources:
    - url: ssh://git@ssh.dev.azure.com/v3/contoso/*
      private: true
      accept:
        sshPrivateKey: |
          -----BEGIN OPENSSH PRIVATE KEY-----
          b3BlbnNzaC1rZXktdjE=
          -----END OPENSSH PRIVATE KEY-----
        localAuthRef: fleet-git-credentials
    - url: https://dev.azure.com/contoso/fleet/_git/fleet-config
      private: true
      accept: {httpsUser: git, httpsKey: pat-123, provider: Azure}
    - url: oci://contoso.azurecr.io/*
      private: true
      accept: {tls: {clientCertificate: CERT, privateKey: KEY}}
    - {url: "https://github.com/contoso/*"}
keyVault:
  secrets: {fleet-ssh-key: s3cr3t-value, ado-pat: pat-123}
"""


def test_full_example_loads() -> None:
    scenario = parse_scenario(FULL)
    flux = scenario.flux
    assert flux.oci_revision_form == "bare"
    assert flux.oci_revision_rules[0].form == "digest"
    assert [s.accept.forms() for s in flux.sources] == [
        ["sshPrivateKey", "localAuthRef"],
        ["https", "provider"],
        ["tls"],
        [],
    ]
    assert flux.sources[3].private is False
    assert scenario.expand_clusters()[0].connectivity_status == "AgentNotInstalled"
    assert set(scenario.key_vault.secrets) == {"fleet-ssh-key", "ado-pat"}
    assert "s3cr3t-value" not in repr(scenario)
    assert "pat-123" not in repr(scenario)


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        (
            "flux: {sources: [{url: 'https://x/*', private: true, accept: {httpsUser: git}}]}",
            "flux.sources.0.accept",
            "httpsUser and accept.httpsKey go together",
        ),
        (
            "flux: {sources: [{url: 'https://x/*', accept: {localAuthRef: creds}}]}",
            "flux.sources.0",
            "set 'private: true'",
        ),
        (
            "flux: {sources: [{url: 'https://x'}, {url: 'https://x'}]}",
            "flux.sources",
            "listed twice",
        ),
        (
            "flux: {sources: [{url: 'oci://r/*', private: true, accept: {provider: GitHub}}]}",
            "flux.sources.0.accept.provider",
            "'Azure'",
        ),
        (
            "flux: {sources: [{url: 'oci://r/*', private: true, "
            "accept: {tls: {clientCertificate: C}}}]}",
            "flux.sources.0.accept.tls.privateKey",
            "Field required",
        ),
        ("flux: {ociRevisionForm: short}", "flux.ociRevisionForm", "'digest' or 'bare'"),
        ("keyVault: {secrets: {'no_underscores': x}}", "keyVault.secrets", "is invalid"),
        ("keyVault: {secrets: {Pat: x, pat: y}}", "keyVault.secrets", "listed twice"),
        ("keyVault: {vault: x}", "keyVault.vault", "Extra inputs"),
        (
            "clusters: [{name: a, connectivityStatus: Gone}]",
            "clusters.0.cluster.connectivityStatus",
            "AgentNotInstalled",
        ),
    ],
)
def test_mistakes_are_reported_where_they_are(text: str, location: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_scenario(text)
    errors = {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}
    assert location in errors, errors
    assert message in errors[location]


def test_errors_never_echo_secret_values() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_scenario(
            "keyVault: {secrets: {'bad name': hunter2-value}}\n"
            "flux: {sources: [{url: u, accept: {sshPrivateKey: PRIVATE-KEY-TEXT}}]}"
        )
    text = str(caught.value)
    assert "hunter2-value" not in text
    assert "PRIVATE-KEY-TEXT" not in text


def test_vault_versions_and_case_insensitive_names() -> None:
    vault = Vault({"Fleet-Key": "one"})
    first = vault.get("fleet-key")
    assert first is not None and first.name == "Fleet-Key"
    second = vault.set("FLEET-KEY", "two")
    secret = vault.get("fleet-key")
    assert secret is not None
    assert [v.value for v in secret.versions] == ["one", "two"]
    assert secret.latest == second
    assert len(second.version) == 32 and int(second.version, 16) >= 0
    assert secret.version(secret.versions[0].version.upper()) == secret.versions[0]
    assert vault.names() == ["Fleet-Key"]
    assert "two" not in repr(secret)
    assert vault.delete("fleet-KEY") and vault.names() == []
    with pytest.raises(ValueError):
        vault.set("no spaces", "x")


def test_the_documented_scenario_loads() -> None:
    """docs/emulator.md's scenario reference is a valid scenario, new fields included."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "emulator.md").read_text("utf-8")
    block = doc.split("```yaml", 1)[1].split("```", 1)[0]
    scenario = parse_scenario(block)
    assert [s.accept.forms() for s in scenario.flux.sources] == [
        ["sshPrivateKey"],
        ["https", "localAuthRef"],
        ["provider", "tls"],
    ]
    assert set(scenario.key_vault.secrets) == {"fleet-ssh-key", "ado-pat"}
