import json
from pathlib import Path

import pytest

from shared.desired import cluster_id_of, configuration_id, desired_configuration
from shared.trackspec import load_track_spec

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
