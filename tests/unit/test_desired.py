import base64
import json
from pathlib import Path

import pytest

from shared.desired import (
    cluster_id_of,
    configuration_id,
    desired_configuration,
    pin_patch,
    restorable,
    shape,
    with_secrets,
)
from shared.secrets import Secret
from shared.trackspec import TrackSpec, load_track_spec, validate_track_spec

ROOT = Path(__file__).resolve().parents[2]
SHA = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-fleet"
    "/providers/Microsoft.Kubernetes/connectedClusters/canary-1"
)


def test_the_demo_track_pinned_to_a_commit() -> None:
    spec = load_track_spec((ROOT / "scenarios/demo/track.yaml").read_text())
    body = desired_configuration(spec, SHA)
    props = body["properties"]
    assert props["scope"] == "cluster"
    assert props["namespace"] == "flux-system"
    assert props["sourceKind"] == "GitRepository"
    assert props["suspend"] is False
    assert props["gitRepository"] == {
        "url": "https://github.com/contoso/fleet-config",
        "timeoutInSeconds": 600,
        "syncIntervalInSeconds": 600,
        "repositoryRef": {"branch": "main", "commit": SHA},
    }
    assert props["kustomizations"]["apps"] == {
        "path": "./apps",
        "dependsOn": ["infra"],
        "timeoutInSeconds": 600,
        "syncIntervalInSeconds": 600,
        "prune": True,
        "force": False,
        "wait": True,
    }


def test_optional_kustomization_fields_travel_when_set() -> None:
    spec = load_track_spec(
        (ROOT / "scenarios/demo/track.yaml")
        .read_text()
        .replace(
            "infra: {path: ./infrastructure, prune: true}",
            "infra: {path: ./infrastructure, retryInterval: 2m, substitute: {wave: '1'}}",
        )
    )
    infra = desired_configuration(spec, SHA)["properties"]["kustomizations"]["infra"]
    assert infra["retryIntervalInSeconds"] == 120
    assert infra["postBuild"] == {"substitute": {"wave": "1"}}


def test_the_body_has_the_shape_of_azure_s_put_example() -> None:
    example = json.loads(
        (ROOT / "tests/payloads/arm-fluxconfigurations-put.request.json").read_text()
    )
    spec = load_track_spec((ROOT / "scenarios/demo/track.yaml").read_text())
    ours = desired_configuration(spec, SHA)["properties"]
    theirs = example["properties"]
    assert set(ours) <= set(theirs) | {"suspend"}
    assert set(ours["gitRepository"]) <= set(theirs["gitRepository"])
    their_fields = set().union(*(set(k) for k in theirs["kustomizations"].values()))
    for kustomization in ours["kustomizations"].values():
        # `force` is a documented field the example does not happen to set.
        assert set(kustomization) - {"force"} <= their_fields


def test_configuration_ids_round_trip_whatever_the_case() -> None:
    config = configuration_id(CLUSTER, "baseline")
    assert config.endswith(
        "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/baseline"
    )
    assert cluster_id_of(config) == CLUSTER
    assert cluster_id_of(config.lower()) == CLUSTER.lower()
    with pytest.raises(ValueError, match="not a fluxConfiguration id"):
        cluster_id_of(CLUSTER)


def test_an_oci_track_pins_the_digest_or_else_the_tag() -> None:
    spec = load_track_spec(
        (ROOT / "scenarios/demo/track.yaml")
        .read_text()
        .replace(
            "url: https://github.com/contoso/fleet-config", "url: oci://contoso.azurecr.io/fleet"
        )
        .replace("  branch: main\n", "")
    )
    digest = "sha256:" + "ab" * 32
    props = desired_configuration(spec, f"v1@{digest}")["properties"]
    assert props["sourceKind"] == "OCIRepository"
    assert "gitRepository" not in props
    assert props["ociRepository"]["url"] == "oci://contoso.azurecr.io/fleet"
    assert props["ociRepository"]["repositoryRef"] == {"digest": digest}
    tag_only = desired_configuration(spec, "v1")["properties"]["ociRepository"]["repositoryRef"]
    assert tag_only == {"tag": "v1"}


def spec_with(url: str, auth: dict[str, object] | None, branch: str | None = "main") -> TrackSpec:
    source: dict[str, object] = {"url": url}
    if branch:
        source["branch"] = branch
    if auth is not None:
        source["auth"] = auth
    return validate_track_spec(
        {
            "name": "t",
            "source": source,
            "configuration": {"name": "t", "kustomizations": {"a": {"path": "./a"}}},
            "fleet": {"subscriptions": ["00000000-0000-0000-0000-000000000001"]},
            "waves": [{"name": "all"}],
        }
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SSH = {"ssh": {"privateKey": {"secret": "key"}, "knownHosts": "host ssh-rsa AAA"}}


def test_ssh_auth_goes_to_known_hosts_and_the_protected_private_key() -> None:
    spec = spec_with("ssh://git@host/org/repo", SSH)
    public = desired_configuration(spec, SHA)
    git = public["properties"]["gitRepository"]
    assert git["sshKnownHosts"] == b64("host ssh-rsa AAA")
    assert "configurationProtectedSettings" not in public["properties"]
    full = with_secrets(public, spec, {"sshPrivateKey": Secret("PRIVATE", "v1")})
    assert full["properties"]["configurationProtectedSettings"] == {"sshPrivateKey": b64("PRIVATE")}
    assert "configurationProtectedSettings" not in public["properties"]  # not mutated


def test_https_provider_ca_and_local_auth_go_where_azure_takes_them() -> None:
    https = spec_with(
        "https://dev.azure.com/org/p/_git/r",
        {"https": {"user": "git", "token": {"secret": "pat"}}, "caCertificate": "PEM"},
    )
    git = desired_configuration(https, SHA)["properties"]["gitRepository"]
    assert (git["httpsUser"], git["httpsCACert"]) == ("git", b64("PEM"))
    full = with_secrets(desired_configuration(https, SHA), https, {"httpsKey": Secret("T", "1")})
    assert full["properties"]["configurationProtectedSettings"] == {"httpsKey": b64("T")}
    azure = desired_configuration(
        spec_with("https://dev.azure.com/o/p/_git/r", {"provider": "azure"}), SHA
    )
    assert azure["properties"]["gitRepository"]["provider"] == "Azure"
    local = desired_configuration(spec_with("https://h/o/r", {"localAuthRef": "creds"}), SHA)
    assert local["properties"]["gitRepository"]["localAuthRef"] == "creds"
    oci = spec_with(
        "oci://contoso.azurecr.io/fleet",
        {
            "provider": "azure",
            "clientCertificate": {"certificate": "CERT", "privateKey": {"secret": "k"}},
        },
        branch=None,
    )
    body = with_secrets(desired_configuration(oci, "v1"), oci, {"tlsPrivateKey": Secret("K", "1")})
    repo = body["properties"]["ociRepository"]
    assert repo["useWorkloadIdentity"] is True
    assert repo["tlsConfig"] == {"clientCertificate": b64("CERT"), "privateKey": b64("K")}


def test_the_shape_ignores_the_pin_and_secret_values_but_not_versions_or_spec() -> None:
    spec = spec_with("ssh://git@host/org/repo", SSH)
    first = shape(spec, {"sshPrivateKey": Secret("one", "v1")})
    assert shape(spec, {"sshPrivateKey": Secret("two", "v1")}) == first
    assert shape(spec, {"sshPrivateKey": Secret("one", "v2")}) != first
    other = spec_with("ssh://git@host/org/other", SSH)
    assert shape(other, {"sshPrivateKey": Secret("one", "v1")}) != first
    assert "one" not in first


def test_a_pin_patch_names_only_the_source_reference() -> None:
    spec = spec_with("https://h/o/r", None)
    assert pin_patch(spec, SHA) == {
        "properties": {"gitRepository": {"repositoryRef": {"branch": "main", "commit": SHA}}}
    }
    oci = spec_with("oci://contoso.azurecr.io/fleet", None, branch=None)
    digest = "sha256:" + "cd" * 32
    assert pin_patch(oci, f"v2@{digest}")["properties"]["ociRepository"]["repositoryRef"] == {
        "digest": digest,
        "tag": None,
    }


def test_a_restore_point_never_keeps_a_tls_private_key() -> None:
    found = {
        "properties": {
            "ociRepository": {
                "url": "oci://r/x",
                "tlsConfig": {"privateKey": "S", "caCertificate": "C"},
            },
            "statuses": [],
        }
    }
    assert restorable(found) == {
        "properties": {"ociRepository": {"url": "oci://r/x", "tlsConfig": {"caCertificate": "C"}}}
    }
