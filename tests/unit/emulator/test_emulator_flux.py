"""Flux behaviour on the backend, with a hand-driven clock: Pending -> Compliant/Non-Compliant."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.backend import Backend
from emulator.connectedclusters.models import ConnectedCluster
from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.scenario import Scenario

HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
GOOD = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
BAD = "bad0000000000000000000000000000000000000"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def scenario(**flux: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "clusters": [
                {"name": "canary-1", "tags": {"ring": "canary"}},
                {"generate": {"count": 4, "name": "store-{i:03d}", "sites": 2}},
            ],
            "flux": {
                "branchHeads": {"main": HEAD},
                "reconcileSeconds": {"min": 1.0, "max": 2.0},
                "failures": [
                    {"commit": "bad0", "clusters": "*", "reason": "HealthCheckFailed"},
                    {
                        "commit": "dead",
                        "clusters": {"site": "site-2"},
                        "reason": "BuildFailed",
                        "kustomization": "apps",
                    },
                ],
                **flux,
            },
            "faults": {"slow": [{"clusters": "store-004", "factor": 10}]},
            "arm": {"operationSeconds": 0.5},
            "seed": 7,
        }
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> Backend:
    return Backend(scenario(), clock=clock)


def cluster(backend: Backend, name: str) -> ConnectedCluster:
    (found,) = backend.clusters_named(name)
    return found


def put(backend: Backend, name: str, commit: str | None = None) -> FluxConfiguration:
    ref: dict[str, Any] = {"branch": "main"}
    if commit:
        ref["commit"] = commit
    properties = {
        "namespace": "flux-system",
        "gitRepository": {"url": "https://github.com/org/fleet", "repositoryRef": ref},
        "kustomizations": {"infra": {"path": "./infra"}, "apps": {"dependsOn": ["infra"]}},
    }
    config, _, _ = backend.put_configuration(
        cluster(backend, name), "baseline", properties, "2023-05-01"
    )
    return config


def settle(backend: Backend, clock: FakeClock, seconds: float = 3.0) -> None:
    clock.tick(seconds)
    backend.advance()


def test_write_is_pending_then_compliant(backend: Backend, clock: FakeClock) -> None:
    """After the operation and the reconcile delay, the pinned commit is Compliant."""
    config = put(backend, "canary-1", GOOD)
    assert (config.provisioning_state, config.compliance_state) == ("Creating", "Pending")
    assert {s["statusConditions"][0]["reason"] for s in config.statuses} == {"Progressing"}
    clock.tick(0.6)
    backend.advance()
    assert (config.provisioning_state, config.compliance_state) == ("Succeeded", "Pending")
    settle(backend, clock)
    assert config.compliance_state == "Compliant"
    assert config.source_synced_commit_id == f"main/{GOOD}"
    reasons = [s["statusConditions"][0]["reason"] for s in config.statuses]
    assert reasons == ["GitOperationSucceed", "ReconciliationSucceeded", "ReconciliationSucceeded"]
    assert [s["name"] for s in config.statuses] == ["baseline", "baseline-infra", "baseline-apps"]
    assert config.status_updated_at is not None


def test_failing_commit_is_non_compliant_with_reason(backend: Backend, clock: FakeClock) -> None:
    """A commit matching a failure rule fails its first kustomization; dependants wait."""
    config = put(backend, "canary-1", BAD)
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert config.compliance_state == "Non-Compliant"
    assert config.source_synced_commit_id == f"main/{BAD}"
    reasons = [s["statusConditions"][0]["reason"] for s in config.statuses]
    assert reasons == ["GitOperationSucceed", "HealthCheckFailed", "DependencyNotReady"]


def test_failure_rule_matches_by_tags_and_names_kustomization(
    backend: Backend, clock: FakeClock
) -> None:
    dead = "dead" + GOOD[4:]
    on_site_2 = put(backend, "store-002", dead)
    on_site_1 = put(backend, "store-001", dead)
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert on_site_1.compliance_state == "Compliant"
    assert on_site_2.compliance_state == "Non-Compliant"
    assert on_site_2.statuses[2]["statusConditions"][0]["reason"] == "BuildFailed"
    assert on_site_2.statuses[1]["complianceState"] == "Compliant"


def test_branch_following_config_tracks_the_head(backend: Backend, clock: FakeClock) -> None:
    """No commit pin: the config follows the branch head, and a moved head reaches it."""
    configs = [put(backend, name) for name in ("canary-1", "store-001", "store-002")]
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert {c.source_synced_commit_id for c in configs} == {f"main/{HEAD}"}
    assert backend.move_branch("main", BAD) == 3
    settle(backend, clock)
    assert {c.source_synced_commit_id for c in configs} == {f"main/{BAD}"}
    assert {c.compliance_state for c in configs} == {"Non-Compliant"}


def test_pinned_config_ignores_head_moves(backend: Backend, clock: FakeClock) -> None:
    config = put(backend, "canary-1", GOOD)
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert backend.move_branch("main", BAD) == 0
    settle(backend, clock)
    assert config.source_synced_commit_id == f"main/{GOOD}"


def test_offline_cluster_reconciles_after_reconnect(backend: Backend, clock: FakeClock) -> None:
    target = cluster(backend, "store-003")
    backend.set_connectivity(target, "Offline")
    config = put(backend, "store-003", GOOD)
    settle(backend, clock, 0.6)
    settle(backend, clock, 30)
    assert (config.provisioning_state, config.compliance_state) == ("Succeeded", "Pending")
    backend.set_connectivity(target, "Connected")
    settle(backend, clock)
    assert config.compliance_state == "Compliant"


def test_slow_cluster_takes_longer(backend: Backend, clock: FakeClock) -> None:
    slow, normal = put(backend, "store-004", GOOD), put(backend, "store-003", GOOD)
    settle(backend, clock, 0.6)
    settle(backend, clock, 2.5)
    assert normal.compliance_state == "Compliant"
    assert slow.compliance_state == "Pending"
    settle(backend, clock, 20)
    assert slow.compliance_state == "Compliant"


def test_unknown_branch_fails_the_source(backend: Backend, clock: FakeClock) -> None:
    properties = {
        "gitRepository": {"url": "https://x/y", "repositoryRef": {"branch": "nope"}},
        "kustomizations": {"apps": {}},
    }
    config, _, _ = backend.put_configuration(
        cluster(backend, "canary-1"), "apps", properties, "2023-05-01"
    )
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert config.compliance_state == "Non-Compliant"
    assert config.statuses[0]["statusConditions"][0]["reason"] == "GitOperationFailed"
    assert config.source_synced_commit_id is None


def test_suspended_config_reports_suspended(backend: Backend, clock: FakeClock) -> None:
    properties = {
        "suspend": True,
        "gitRepository": {"url": "https://x/y", "repositoryRef": {"branch": "main"}},
    }
    config, _, _ = backend.put_configuration(
        cluster(backend, "canary-1"), "paused", properties, "2023-05-01"
    )
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert config.compliance_state == "Suspended"


def test_manual_progression_waits_for_reconcile_now(clock: FakeClock) -> None:
    backend = Backend(scenario(progression="manual"), clock=clock)
    config = put(backend, "canary-1", GOOD)
    settle(backend, clock, 60)
    assert config.compliance_state == "Pending"
    assert backend.reconcile_now() == 1
    assert config.compliance_state == "Compliant"


def test_delete_waits_for_an_offline_cluster_unless_forced(
    backend: Backend, clock: FakeClock
) -> None:
    target = cluster(backend, "store-001")
    config = put(backend, "store-001", GOOD)
    settle(backend, clock, 0.6)
    backend.set_connectivity(target, "Offline")
    operation = backend.delete_configuration(target, config, force=False)
    settle(backend, clock, 10)
    assert operation.status == "InProgress"
    assert "baseline" in target.configurations
    backend.set_connectivity(target, "Connected")
    assert operation.status == "Succeeded"
    assert "baseline" not in target.configurations
    again = put(backend, "store-001", GOOD)
    backend.set_connectivity(target, "Offline")
    forced = backend.delete_configuration(target, again, force=True)
    assert forced.status == "Succeeded"
    assert "baseline" not in target.configurations


def test_out_of_band_edit_is_drift(backend: Backend, clock: FakeClock) -> None:
    config = put(backend, "canary-1", GOOD)
    settle(backend, clock, 0.6)
    settle(backend, clock)
    backend.edit_out_of_band(
        cluster(backend, "canary-1"),
        config,
        {"gitRepository": {"repositoryRef": {"commit": BAD}}},
    )
    assert config.modified_by == "someone@contoso.com"
    assert backend.writes == []
    settle(backend, clock, 0.6)
    settle(backend, clock)
    assert config.source_synced_commit_id == f"main/{BAD}"


def test_reset_restores_the_scenario(backend: Backend, clock: FakeClock) -> None:
    put(backend, "canary-1", GOOD)
    backend.move_branch("main", BAD)
    backend.reset()
    assert not cluster(backend, "canary-1").configurations
    assert backend.flux.branch_heads == {"main": HEAD}
