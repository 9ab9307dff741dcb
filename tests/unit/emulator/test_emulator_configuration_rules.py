"""ARM rules for writes on the backend: create-only fields, write-only protected settings,
409 while deleting, and connectivityStatus per api-version."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.backend import Backend
from emulator.connectedclusters.models import ConnectedCluster, connectivity_for
from emulator.fluxconfigurations.exceptions import (
    CreateOnlyPropertyChanged,
    FluxConfigurationBeingDeleted,
)
from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.resourcegraph.models import GraphRequest, run_query
from emulator.scenario import Scenario

API_VERSIONS = ("2023-05-01", "2024-11-01", "2025-04-01")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def backend() -> Backend:
    scenario = Scenario.model_validate(
        {"clusters": [{"name": "canary-1"}], "arm": {"operationSeconds": 0.5}}
    )
    return Backend(scenario, clock=FakeClock())


def cluster(backend: Backend) -> ConnectedCluster:
    (found,) = backend.clusters_named("canary-1")
    return found


def properties(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scope": "cluster",
        "namespace": "flux-system",
        "gitRepository": {"url": "https://x/y", "repositoryRef": {"branch": "main"}},
    }
    base.update(overrides)
    return base


def put(backend: Backend, props: dict[str, Any]) -> FluxConfiguration:
    config, _, _ = backend.put_configuration(cluster(backend), "cfg", props, "2025-04-01")
    return config


def protected(config: FluxConfiguration) -> dict[str, str]:
    return dict(config.spec["configurationProtectedSettings"])


@pytest.mark.parametrize(
    ("change", "field"),
    [({"scope": "namespace"}, "scope"), ({"namespace": "apps"}, "namespace")],
)
def test_put_cannot_change_create_only_fields(
    backend: Backend, change: dict[str, Any], field: str
) -> None:
    put(backend, properties())
    with pytest.raises(CreateOnlyPropertyChanged) as caught:
        put(backend, properties(**change))
    error = caught.value
    assert (error.status, error.code, error.target) == (
        400,
        "InvalidRequestContent",
        f"properties.{field}",
    )
    assert f"Property '{field}'" in error.message
    assert "can only be set when the configuration is created" in error.message
    assert cluster(backend).configurations["cfg"].spec[field] == properties()[field]


def test_put_repeating_create_only_values_is_fine(backend: Backend) -> None:
    put(backend, properties())
    config = put(backend, properties(scope="Cluster", suspend=True))
    assert config.spec["scope"] == "cluster" and config.spec["suspend"] is True


def test_put_that_omits_them_means_the_defaults(backend: Backend) -> None:
    """A PUT replaces the resource: an omitted namespace is the default, 'default'."""
    put(backend, properties())
    props = properties()
    del props["namespace"]
    with pytest.raises(CreateOnlyPropertyChanged, match="'default'"):
        put(backend, props)


def test_patch_cannot_change_create_only_fields(backend: Backend) -> None:
    config = put(backend, properties())
    with pytest.raises(CreateOnlyPropertyChanged) as caught:
        backend.patch_configuration(
            cluster(backend), config, {"scope": "namespace", "namespace": "x"}, "2025-04-01"
        )
    assert [d["target"] for d in caught.value.details] == [
        "properties.scope",
        "properties.namespace",
    ]
    backend.patch_configuration(
        cluster(backend), config, {"namespace": "flux-system"}, "2025-04-01"
    )
    assert config.generation == 2


def test_protected_settings_patch_merges_put_replaces(backend: Backend) -> None:
    config = put(backend, properties(configurationProtectedSettings={"a": "MQ==", "b": "Mg=="}))
    assert protected(config) == {"a": "MQ==", "b": "Mg=="}
    backend.patch_configuration(cluster(backend), config, {"suspend": True}, "2025-04-01")
    assert protected(config) == {"a": "MQ==", "b": "Mg=="}
    backend.patch_configuration(
        cluster(backend),
        config,
        {"configurationProtectedSettings": {"a": None, "c": "Mw=="}},
        "2025-04-01",
    )
    assert protected(config) == {"b": "Mg==", "c": "Mw=="}
    put(backend, properties())
    assert protected(config) == {}


@pytest.mark.parametrize("version", API_VERSIONS)
def test_protected_settings_are_never_returned(backend: Backend, version: str) -> None:
    config = put(backend, properties(configurationProtectedSettings={"httpsKey": "c2VjcmV0"}))
    assert "configurationProtectedSettings" not in config.to_arm(version)["properties"]
    rows = run_query(
        backend,
        GraphRequest("kubernetesconfigurationresources", None, None, 0, None, "objectArray"),
    )["data"]
    assert "configurationProtectedSettings" not in rows[0]["properties"]
    assert "c2VjcmV0" not in repr(rows) + repr(config.to_arm(version))


def test_writes_while_deleting_are_conflicts(backend: Backend) -> None:
    config = put(backend, properties())
    backend.delete_configuration(cluster(backend), config, force=False)
    assert config.provisioning_state == "Deleting"
    with pytest.raises(FluxConfigurationBeingDeleted) as caught:
        put(backend, properties())
    assert (caught.value.status, caught.value.code) == (409, "Conflict")
    assert "is being deleted" in caught.value.message
    with pytest.raises(FluxConfigurationBeingDeleted):
        backend.patch_configuration(cluster(backend), config, {"suspend": True}, "2025-04-01")
    assert isinstance(backend.clock, FakeClock)
    backend.clock.now += 1
    backend.advance()
    assert "cfg" not in cluster(backend).configurations
    assert put(backend, properties()).provisioning_state == "Creating"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2026-03-01", "AgentNotInstalled"),
        (None, "AgentNotInstalled"),
        ("2025-08-01-preview", "Connecting"),
        ("2024-01-01", "Connecting"),
    ],
)
def test_agent_not_installed_per_api_version(version: str | None, expected: str) -> None:
    assert connectivity_for("AgentNotInstalled", version) == expected
    assert connectivity_for("Offline", version) == "Offline"


def test_agent_not_installed_is_not_online(backend: Backend) -> None:
    target = cluster(backend)
    backend.set_connectivity(target, "AgentNotInstalled")
    assert not target.online
    assert target.to_arm("2026-03-01")["properties"]["connectivityStatus"] == "AgentNotInstalled"
    assert target.to_arm("2024-01-01")["properties"]["connectivityStatus"] == "Connecting"
    assert target.to_arg_row()["properties"]["connectivityStatus"] == "AgentNotInstalled"
