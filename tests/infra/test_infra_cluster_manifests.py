"""infra/cluster/: the Flux Provider and Alert that report each cluster's Kustomization events."""

from pathlib import Path
from typing import Any

import yaml

CLUSTER = Path(__file__).resolve().parents[2] / "infra" / "cluster"


def load(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((CLUSTER / name).read_text()) if doc]


def enrolled(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in load("enrollment.template.yaml") if doc["kind"] == kind]


def test_infra_cluster_kustomizations_list_only_committed_manifests() -> None:
    for directory, expected in (
        (CLUSTER, ["notifications.yaml"]),
        (CLUSTER / "notifications", ["provider.yaml", "alert.yaml"]),
    ):
        (kustomization,) = load(str((directory / "kustomization.yaml").relative_to(CLUSTER)))
        assert kustomization["kind"] == "Kustomization"
        assert kustomization["namespace"] == "flux-system"
        assert kustomization["resources"] == expected
        for resource in expected:
            assert (directory / resource).is_file()


def test_infra_cluster_provider_signs_events_with_the_enrolled_secret() -> None:
    (provider,) = load("notifications/provider.yaml")
    secrets = enrolled("Secret")
    assert provider["apiVersion"] == "notification.toolkit.fluxcd.io/v1beta3"
    assert provider["kind"] == "Provider"
    assert provider["spec"]["type"] == "generic-hmac"
    assert "address" not in provider["spec"], "the URL holds a function key"
    assert [s["metadata"]["name"] for s in secrets] == [provider["spec"]["secretRef"]["name"]]
    assert set(secrets[0]["stringData"]) == {"address", "token"}


def test_infra_cluster_alert_sends_kustomization_events_with_the_cluster_id() -> None:
    (alert,) = load("notifications/alert.yaml")
    (provider,) = load("notifications/provider.yaml")
    assert alert["kind"] == "Alert"
    assert alert["spec"]["providerRef"]["name"] == provider["metadata"]["name"]
    assert alert["spec"]["eventSeverity"] == "info"
    assert alert["spec"]["eventSources"] == [{"kind": "Kustomization", "name": "*"}]
    assert alert["spec"]["eventMetadata"] == {"clusterId": "${ARCWAVE_CLUSTER_ID}"}


def test_infra_cluster_id_is_substituted_from_the_enrolled_config_map() -> None:
    (wrapper,) = load("notifications.yaml")
    config_maps = enrolled("ConfigMap")
    assert wrapper["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert wrapper["kind"] == "Kustomization"
    assert wrapper["spec"]["path"] == "./arcwave/notifications"
    assert wrapper["spec"]["sourceRef"]["kind"] == "GitRepository"
    assert wrapper["spec"]["postBuild"]["substituteFrom"] == [
        {"kind": "ConfigMap", "name": config_maps[0]["metadata"]["name"]}
    ]
    assert list(config_maps[0]["data"]) == ["ARCWAVE_CLUSTER_ID"]
    for doc in load("enrollment.template.yaml"):
        assert doc["metadata"]["namespace"] == "flux-system"
