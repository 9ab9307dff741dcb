"""Failure budgets, approvals, operator commands, supersede, offline clusters and catch-up,
end to end through devhost and the emulator."""

import time
from pathlib import Path

import pytest
from rollout_support import (
    BUDGET_FAILURES,
    GOOD,
    GOOD2,
    GOOD3,
    OVER,
    PARTIAL,
    cluster_id,
    running_stack,
    scenario,
    slow_canaries,
)

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e

BUDGET_FLUX = {**scenario()["flux"], "failures": BUDGET_FAILURES}


def test_a_budget_partly_used_still_promotes(tmp_path: Path) -> None:
    with running_stack(tmp_path, flux=BUDGET_FLUX) as stack:
        stack.register()
        stack.roll(PARTIAL, "r1")
        rollout = stack.wait_state("r1", RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
        assert rollout.state is RolloutState.SUCCEEDED
        broad = rollout.wave("broad")
        assert broad.counts == {ClusterState.HEALTHY: 5, ClusterState.FAILED: 1}
        assert "1 failed (1 HealthCheckFailed) within budget 1" in broad.message


def test_one_over_the_budget_stops_and_rolls_back(tmp_path: Path) -> None:
    with running_stack(tmp_path, flux=BUDGET_FLUX) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.SUCCEEDED)
        stack.roll(OVER, "r2")
        rollout = stack.wait_state("r2", RolloutState.ROLLED_BACK, RolloutState.FAILED)
        assert rollout.state is RolloutState.ROLLED_BACK
        verdicts = [e for e in stack.records.timeline.list("r2") if e.data.get("wave") == "broad"]
        assert Reason.FAILURE_BUDGET_EXCEEDED in [e.reason for e in verdicts]
        # Every wave this rollout changed is back on the last good commit, last wave first.
        final = {}
        for write in stack.writes():
            final[write["cluster"]] = write["commit"]
        assert set(final.values()) == {GOOD}
        writes = stack.writes()
        first_over = next(i for i, w in enumerate(writes) if w["commit"] == OVER)
        rollback_order = [w["cluster"][:5] for w in writes[first_over:] if w["commit"] == GOOD]
        assert rollback_order.index("store") < rollback_order.index("canar")


def test_an_approval_gate_holds_the_wave_until_approved(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "rest", "approval": True},
            ]
        )
        stack.roll(GOOD, "r1")
        rollout = stack.wait_state("r1", RolloutState.WAITING_FOR_APPROVAL)
        assert rollout.wave("rest").reason is Reason.AWAITING_APPROVAL
        time.sleep(1)
        assert {w["cluster"][:6] for w in stack.writes()} == {"canary"}
        stack.command("r1", approvals={"rest": "alice"})
        rollout = stack.wait_state("r1", RolloutState.SUCCEEDED)
        messages = [e.message for e in stack.records.timeline.list("r1")]
        assert "wave 'rest' approved by alice" in messages


def test_an_approval_timeout_aborts(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "rest", "approval": True, "approvalTimeout": "2s"},
            ]
        )
        stack.roll(GOOD, "r1")
        rollout = stack.wait_state("r1", RolloutState.ABORTED)
        assert rollout.reason is Reason.APPROVAL_TIMED_OUT
        assert {w["cluster"][:6] for w in stack.writes()} == {"canary"}


def test_pause_holds_at_the_next_safe_point_and_resume_goes_on(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries()) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.RUNNING)
        # Pause once the canary wave is writing (its clusters reconcile slowly): the pause
        # holds the rollout at the next safe point, before the next wave.
        eventually(stack.writes, timeout=60, what="the canary wave writing")
        stack.command("r1", paused=True)
        stack.wait_state("r1", RolloutState.PAUSED)
        time.sleep(1.5)
        assert {w["cluster"][:6] for w in stack.writes()} == {"canary"}
        stack.command("r1", paused=False)
        rollout = stack.wait_state("r1", RolloutState.SUCCEEDED)
        reasons = [e.reason for e in stack.records.timeline.list("r1")]
        assert Reason.PAUSED in reasons and Reason.RESUMED in reasons
        assert rollout.state is RolloutState.SUCCEEDED


def test_abort_without_rollback_leaves_clusters_as_they_are(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries()) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.SUCCEEDED)
        stack.roll(GOOD2, "r2")
        stack.wait_state("r2", RolloutState.RUNNING)
        stack.command("r2", abort=True)
        rollout = stack.wait_state("r2", RolloutState.ABORTED)
        assert rollout.reason is Reason.ABORTED
        commits = {w["cluster"]: w["commit"] for w in stack.writes()}
        assert {commits["canary-1"], commits["canary-2"]} == {GOOD2}
        assert commits["store-1"] == GOOD


def test_abort_with_rollback_restores_what_changed(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries()) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.SUCCEEDED)
        stack.roll(GOOD2, "r2")
        stack.wait_state("r2", RolloutState.RUNNING)
        stack.command("r2", abort=True, rollback=True)
        rollout = stack.wait_state("r2", RolloutState.ABORTED)
        assert rollout.reason is Reason.ROLLED_BACK
        commits = {w["cluster"]: w["commit"] for w in stack.writes()}
        assert set(commits.values()) == {GOOD}


def test_supersede_restart_stops_the_running_rollout_for_the_newest(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries()) as stack:
        stack.register(supersede="restart")
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.RUNNING)
        stack.roll(GOOD2, "r2")
        stack.roll(GOOD3, "r3")
        assert stack.wait_state("r1", RolloutState.SUPERSEDED).reason is Reason.SUPERSEDED
        assert stack.wait_state("r2", RolloutState.SUPERSEDED).reason is Reason.SUPERSEDED
        assert stack.wait_state("r3", RolloutState.SUCCEEDED).state is RolloutState.SUCCEEDED
        assert GOOD2 not in {w["commit"] for w in stack.writes()}
        early = [w for w in stack.writes() if w["cluster"].startswith("early")]
        assert {w["commit"] for w in early} == {GOOD3}


def test_offline_skip_then_catch_up(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults={"offline": ["store-3"]}) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        rollout = stack.wait_state("r1", RolloutState.SUCCEEDED)
        assert rollout.wave("broad").counts == {
            ClusterState.HEALTHY: 5,
            ClusterState.SKIPPED: 1,
        }
        assert "store-3" not in {w["cluster"] for w in stack.writes()}
        stack.emulator.control.set_connectivity("store-3", "Connected")
        stack.roll(GOOD, "c1", clusters=[cluster_id("store-3")])
        catch_up = stack.wait_state("c1", RolloutState.SUCCEEDED, RolloutState.FAILED)
        assert catch_up.state is RolloutState.SUCCEEDED
        record = stack.records.clusters.get("baseline", cluster_id("store-3"))
        assert (record.state, record.last_good_revision) == (ClusterState.HEALTHY, GOOD)
        assert [w["commit"] for w in stack.writes() if w["cluster"] == "store-3"] == [GOOD]


def test_offline_fail_counts_against_the_budget(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults={"offline": ["store-3"]}) as stack:
        stack.register(
            offline="fail",
            waves=[{"name": "all", "maxFailures": 0}],
            onFailure="halt",
        )
        stack.roll(GOOD, "r1")
        rollout = stack.wait_state("r1", RolloutState.FAILED)
        offline = stack.records.clusters.get("baseline", cluster_id("store-3"))
        assert (offline.state, offline.reason) == (ClusterState.FAILED, Reason.CLUSTER_OFFLINE)
        assert rollout.wave("all").counts[ClusterState.FAILED] == 1
