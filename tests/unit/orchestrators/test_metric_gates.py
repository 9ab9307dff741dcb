"""Metric gates in the rollout runbook, through the real orchestrators and activities on a
virtual clock: a wave whose updated clusters look worse than the clusters not yet written
fails with MetricGateFailed and rolls back; gates run when the wave has applied and after
soak; a query that fails follows the gate's onError."""

from typing import Any

import pytest

from shared.errors import TransientError
from shared.reasons import Reason
from shared.states import RolloutState, WaveState
from tests.unit.orchestrators.world import GOOD, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

NOISY = "bad1c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
"""Flux-compliant everywhere, but raises the error rate where it runs."""


def gate(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "error-rate",
        "prometheus": {
            "queryEndpoint": "https://ws.westeurope.prometheus.monitor.azure.com",
            "query": "avg by (cluster) (error_ratio)",
        },
        "baseline": {"maxRatio": 1.5, "minSample": 2},
    }
    spec.update(overrides)
    return spec


def register(h: Harness, *gates: dict[str, Any], soak: str = "0s", **spec: Any) -> None:
    h.world.register(
        metricGates=list(gates) or [gate()],
        waves=[
            {
                "name": "canary",
                "selector": {"ring": "canary"},
                "soak": soak,
                "metricGates": [g["name"] for g in gates] or ["error-rate"],
            },
            {"name": "broad", "maxConcurrency": 2, "maxFailures": 1},
        ],
        **spec,
    )
    h.world.monitor.by_commit = {"bad1": 0.2}


def gate_entries(h: Harness, rollout_id: str) -> list[Any]:
    return [e for e in h.records.timeline.list(rollout_id) if "gate" in e.data]


def test_a_metric_regression_fails_the_canary_and_rolls_it_back(h: Harness) -> None:
    register(h)
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded", "Failed", "RolledBack").state is RolloutState.SUCCEEDED
    h.roll(NOISY, "r2")
    rollout = h.settle("r2", "RolledBack", "Failed", "Succeeded")
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    canary = rollout.wave("canary")
    assert canary.state is WaveState.ROLLED_BACK
    failed = [e for e in h.records.timeline.list("r2") if e.reason is Reason.METRIC_GATE_FAILED]
    assert [e.data.get("gate") for e in failed] == ["error-rate", None]
    verdict = failed[0]
    assert verdict.data["updated"]["clusters"] == 2
    assert verdict.data["baseline"]["clusters"] == 6
    assert verdict.data["ratio"] == pytest.approx(20.0)
    assert "ratio 20.0 above 1.5" in verdict.message
    assert {w.cluster for w in h.fleet.writes if w.commit == NOISY} == {"canary-1", "canary-2"}
    for name in ("canary-1", "canary-2"):
        assert h.fleet.named(name).configurations["baseline"].commit == GOOD
    assert h.records.tracks.get("baseline").last_good_revision == GOOD


def test_a_tolerant_gate_lets_the_same_commit_through(h: Harness) -> None:
    register(h, gate(baseline={"maxRatio": 50, "minSample": 2}))
    h.roll(NOISY, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    entries = gate_entries(h, "r1")
    assert [(e.reason, e.data["phase"]) for e in entries] == [
        (Reason.METRIC_GATE_PASSED, "applied")
    ]


def test_gates_run_when_the_wave_has_applied_and_again_after_soak(h: Harness) -> None:
    register(h, gate(threshold={"max": 0.05}), soak="5m")
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    phases = [(e.data["phase"], e.reason) for e in gate_entries(h, "r1")]
    assert phases == [("applied", Reason.METRIC_GATE_PASSED), ("soaked", Reason.METRIC_GATE_PASSED)]
    # Only the canary names the gate: one query per phase, about the canaries and the rest.
    assert h.world.monitor.queries == [("error-rate", 8), ("error-rate", 8)]


def test_a_regression_that_shows_during_soak_fails_after_it(h: Harness) -> None:
    register(h, gate(threshold={"max": 0.05}), soak="5m")
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "Soaking")
    h.world.monitor.default = 0.3
    rollout = h.settle("r1", "RolledBack", "Failed", "Succeeded")
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    phases = [(e.data["phase"], e.reason) for e in gate_entries(h, "r1")]
    assert phases == [("applied", Reason.METRIC_GATE_PASSED), ("soaked", Reason.METRIC_GATE_FAILED)]
    assert not [w for w in h.fleet.writes if w.cluster.startswith("store")]


def test_halt_ends_failed_with_the_gate_as_the_reason(h: Harness) -> None:
    register(h, onFailure="halt")
    h.roll(NOISY, "r1")
    rollout = h.settle("r1", "Failed", "RolledBack", "Succeeded")
    assert rollout.state is RolloutState.FAILED
    assert rollout.reason is Reason.METRIC_GATE_FAILED
    assert "error-rate: updated mean 0.200 (2 clusters) vs baseline 0.010 (6 clusters)" in (
        rollout.message
    )
    assert h.fleet.named("canary-1").configurations["baseline"].commit == NOISY


def test_a_failing_query_fails_the_wave_under_on_error_fail(h: Harness) -> None:
    register(h, gate(onError="fail"))
    h.world.monitor.error = TransientError("metric gate 'error-rate': answered 503: unavailable")
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "RolledBack", "Failed", "Succeeded")
    assert rollout.state is RolloutState.ROLLED_BACK
    [entry] = gate_entries(h, "r1")
    assert entry.reason is Reason.METRIC_GATE_FAILED
    assert entry.message == "error-rate: query failed: answered 503: unavailable (onError: fail)"


def test_a_failing_query_is_skipped_with_a_warning_under_on_error_ignore(h: Harness) -> None:
    register(h, gate(onError="ignore"))
    h.world.monitor.error = TransientError("metric gate 'error-rate': answered 503: unavailable")
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "RolledBack", "Failed")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    [entry] = gate_entries(h, "r1")
    assert entry.reason is Reason.METRIC_GATE_SKIPPED
    assert entry.data["warnings"] == ["query failed: answered 503: unavailable"]


def test_a_wave_without_gates_never_queries(h: Harness) -> None:
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded", "Failed", "RolledBack").state is RolloutState.SUCCEEDED
    assert h.world.monitor.queries == []
