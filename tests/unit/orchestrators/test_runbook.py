"""The rollout runbook, driven through the real orchestrators on a virtual clock: waves in
order, safe points, pause and resume, approvals and their timeout, soak and regression."""

from datetime import timedelta

import pytest

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState
from tests.unit.orchestrators.world import BAD, GOOD, GOOD2, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def reasons(h: Harness, rollout_id: str) -> list[Reason]:
    return [e.reason for e in h.records.timeline.list(rollout_id)]


def test_a_good_revision_goes_wave_by_wave_and_becomes_last_good(h: Harness) -> None:
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    assert [w.state for w in rollout.waves] == [WaveState.SUCCEEDED, WaveState.SUCCEEDED]
    track = h.records.tracks.get("baseline")
    assert (track.last_good_revision, track.active_rollout_id) == (GOOD, None)
    canary_done = max(w.time for w in h.fleet.writes if w.cluster.startswith("canary"))
    first_broad = min(w.time for w in h.fleet.writes if w.cluster.startswith("store"))
    assert first_broad >= canary_done + h.fleet.reconcile_seconds
    assert reasons(h, "r1")[:3] == [Reason.ROLLOUT_STARTED, Reason.PLANNED, Reason.WAVE_STARTED]
    assert reasons(h, "r1")[-1] is Reason.ROLLOUT_SUCCEEDED
    canary = [
        e.data["waveState"] for e in h.records.timeline.list("r1") if e.data.get("wave") == "canary"
    ]
    assert canary[:3] == ["Applying", "Progressing", "Succeeded"], canary


def test_a_failing_canary_rolls_back_and_no_later_wave_sees_the_commit(h: Harness) -> None:
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    h.roll(BAD, "r2")
    rollout = h.settle("r2", "RolledBack", "Failed")
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    assert {w.cluster for w in h.fleet.writes if w.commit == BAD} == {"canary-1", "canary-2"}
    for name in ("canary-1", "canary-2"):
        assert h.fleet.named(name).configurations["baseline"].commit == GOOD
    assert h.records.tracks.get("baseline").last_good_revision == GOOD


def test_pause_holds_at_the_next_safe_point_and_resume_goes_on(h: Harness) -> None:
    h.world.register(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}, "soak": "10m"},
            {"name": "broad"},
        ]
    )
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "Soaking")
    h.command("r1", paused=True)
    h.settle("r1", "Paused")
    h.run_for(timedelta(hours=3))  # nothing is written while paused
    assert not [w for w in h.fleet.writes if w.cluster.startswith("store")]
    assert h.state_of("r1") == "Paused"
    h.command("r1", paused=False)
    rollout = h.settle("r1", "Succeeded")
    assert Reason.RESUMED in reasons(h, "r1")
    assert [w.state for w in rollout.waves] == [WaveState.SUCCEEDED, WaveState.SUCCEEDED]


def test_pause_mid_wave_writes_nothing_new_until_resumed(h: Harness) -> None:
    h.world.register(waves=[{"name": "all", "maxConcurrency": 1}])
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: len(h.fleet.writes) == 1)
    h.command("r1", paused=True)
    h.run_for(timedelta(hours=1))
    # The cluster in flight settles; no other is written while paused.
    assert len(h.fleet.writes) == 1
    first = h.records.clusters.get("baseline", h.fleet.named("canary-1").id)
    assert first.state is ClusterState.HEALTHY
    h.command("r1", paused=False)
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    assert len(h.fleet.writes) == 8


def test_abort_at_a_safe_point_leaves_clusters_as_they_are(h: Harness) -> None:
    h.world.register(
        waves=[{"name": "canary", "selector": {"ring": "canary"}, "soak": "1h"}, {"name": "broad"}]
    )
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "Soaking")
    h.command("r1", abort=True)
    rollout = h.settle("r1", "Aborted")
    assert rollout.reason is Reason.ABORTED
    assert {w.cluster for w in h.fleet.writes} == {"canary-1", "canary-2"}
    assert h.records.tracks.get("baseline").active_rollout_id is None


def test_abort_with_rollback_restores_what_was_written(h: Harness) -> None:
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    h.world.register(
        waves=[{"name": "canary", "selector": {"ring": "canary"}, "soak": "1h"}, {"name": "broad"}]
    )
    h.roll(GOOD2, "r2")
    h.engine.run_until(lambda: h.wave_state("r2", "canary") == "Soaking")
    h.command("r2", abort=True, rollback=True)
    rollout = h.settle("r2", "Aborted")
    assert rollout.reason is Reason.ROLLED_BACK
    for name in ("canary-1", "canary-2"):
        assert h.fleet.named(name).configurations["baseline"].commit == GOOD


def test_an_approval_gate_holds_until_approved(h: Harness) -> None:
    h.world.register(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "approval": True},
        ]
    )
    h.roll(GOOD, "r1")
    h.settle("r1", "WaitingForApproval")
    h.run_for(timedelta(hours=6))
    assert not [w for w in h.fleet.writes if w.cluster.startswith("store")]
    h.command("r1", approvals={"broad": "ops@contoso.com"})
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    approved = [e for e in h.records.timeline.list("r1") if e.reason is Reason.APPROVED]
    assert "ops@contoso.com" in approved[0].message


def test_no_approval_in_time_aborts(h: Harness) -> None:
    h.world.register(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "approval": True, "approvalTimeout": "2h"},
        ]
    )
    h.roll(GOOD, "r1")
    asked = h.settle("r1", "WaitingForApproval").updated_at
    rollout = h.settle("r1", "Aborted")
    assert rollout.reason is Reason.APPROVAL_TIMED_OUT
    assert h.now() - asked >= timedelta(hours=2)
    assert not [w for w in h.fleet.writes if w.cluster.startswith("store")]


def test_a_cluster_that_regresses_during_soak_fails_the_wave(h: Harness) -> None:
    h.world.register(
        waves=[{"name": "canary", "selector": {"ring": "canary"}, "soak": "30m"}, {"name": "broad"}]
    )
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "Soaking")
    h.fleet.regressed.add("canary-2")
    rollout = h.settle("r1", "RolledBack", "Failed")
    assert rollout.wave("canary").state is WaveState.ROLLED_BACK
    regressed = h.records.clusters.get("baseline", h.fleet.named("canary-2").id)
    assert regressed.state is ClusterState.ROLLED_BACK
    failed = [e for e in h.records.timeline.list("r1") if e.data.get("waveState") == "Failed"]
    assert "1 of 2 clusters failed" in failed[0].message
    assert not [w for w in h.fleet.writes if w.cluster.startswith("store")]
