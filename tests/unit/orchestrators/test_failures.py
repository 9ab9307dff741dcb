"""Failure paths: every fault ends in a recorded state a user can act on, the changed clusters
are put back when the world lets it, and the track is free for the next revision."""

import asyncio
from datetime import timedelta

import pytest

from shared.names import wave_instance
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.unit.orchestrators.world import GOOD, GOOD2, GOOD3, EngineClient, Harness
from triggers.reconcile import reconcile

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

TERMINAL = ("Succeeded", "Failed", "RolledBack", "Aborted", "Superseded")


def failed_attempts(h: Harness, instance: str) -> int:
    return sum(1 for e in h.engine.history(instance) if e["EventType"] == 6)  # TaskFailed


def broad_started(h: Harness, rollout_id: str) -> bool:
    return h.wave_state(rollout_id, "broad") not in (None, "Pending")


def first_rollout(h: Harness) -> None:
    h.roll(GOOD, "r1")
    assert h.settle("r1", *TERMINAL).state is RolloutState.SUCCEEDED


def in_the_broad_wave(h: Harness) -> float:
    """GOOD rolled out, then `r2` of GOOD2 has begun its broad wave: the virtual time now."""
    first_rollout(h)
    h.roll(GOOD2, "r2")
    h.engine.run_until(lambda: broad_started(h, "r2"))
    return h.world.clock.time()


def test_an_arm_outage_shorter_than_the_horizon_is_ridden_out(h: Harness) -> None:
    now = in_the_broad_wave(h)
    h.fleet.outage = (now, now + 300)  # five minutes; the horizon is ten
    rollout = h.settle("r2", *TERMINAL)
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    assert failed_attempts(h, wave_instance("r2", "broad")) >= 3
    assert h.now().timestamp() >= now + 300
    assert {c.configurations["baseline"].commit for c in h.fleet.clusters.values()} == {GOOD2}


def test_an_arm_outage_past_the_horizon_fails_the_rollout_and_rolls_back(h: Harness) -> None:
    now = in_the_broad_wave(h)
    h.fleet.outage = (now, now + 900)  # fifteen minutes: past the ten-minute horizon
    rollout = h.settle("r2", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.STEP_FAILED)
    assert "step 'advance_wave' (wave 'broad') failed after" in rollout.message
    assert "ARM answered 503" in rollout.message
    assert "restored" in rollout.message
    # ARM came back during the rollback: everything this rollout wrote is on GOOD again.
    assert {c.configurations["baseline"].commit for c in h.fleet.clusters.values()} == {GOOD}
    track = h.records.tracks.get("baseline")
    assert (track.active_rollout_id, track.last_good_revision) == (None, GOOD)
    h.roll(GOOD3, "r3")
    assert h.settle("r3", *TERMINAL).state is RolloutState.SUCCEEDED


def test_a_rollback_that_cannot_run_is_recorded_per_cluster(h: Harness) -> None:
    now = in_the_broad_wave(h)
    h.fleet.outage = (now, now + 10 * 3600)
    rollout = h.settle("r2", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.STEP_FAILED)
    assert "unrestored" in rollout.message
    unrestored = h.records.clusters.list("baseline", state=ClusterState.ROLLBACK_FAILED)
    assert unrestored and all("rollback could not run" in c.message for c in unrestored)
    assert h.records.tracks.get("baseline").active_rollout_id is None
    h.fleet.outage = None
    h.roll(GOOD3, "r3")
    assert h.settle("r3", *TERMINAL).state is RolloutState.SUCCEEDED


def test_a_permanent_error_fails_the_step_at_once(h: Harness) -> None:
    from shared.errors import Forbidden

    def forbidden(selection: object) -> list[object]:
        raise Forbidden("Resource Graph query failed: forbidden; grant arcwave's identity")

    h.fleet.discover = forbidden  # type: ignore[method-assign]
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.STEP_FAILED)
    assert rollout.message.startswith("step 'plan_rollout' (plan) failed: Resource Graph")
    assert "nothing was changed" in rollout.message
    assert failed_attempts(h, "r1") == 1
    assert h.records.tracks.get("baseline").active_rollout_id is None


def test_a_wave_orchestration_that_fails_fails_the_step(h: Harness) -> None:
    first_rollout(h)
    h.roll(GOOD2, "r2")
    broad = wave_instance("r2", "broad")
    h.engine.run_until(lambda: h.instance_status(broad) == "Running")
    h.engine.terminate(broad, "terminated by hand")
    rollout = h.settle("r2", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.STEP_FAILED)
    assert "step 'wave_orchestrator' (wave 'broad') failed" in rollout.message
    assert {c.configurations["baseline"].commit for c in h.fleet.clusters.values()} == {GOOD}


def test_a_terminated_rollout_is_closed_by_its_track(h: Harness) -> None:
    in_the_broad_wave(h)
    h.engine.terminate("r2", "terminated by hand")
    h.roll(GOOD3, "r3")
    rollout = h.settle("r2", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.ORCHESTRATION_LOST)
    assert "terminated by hand" in rollout.message
    h.engine.run_until(lambda: h.state_of("r3") in TERMINAL)
    assert h.state_of("r3") == "Succeeded"


def test_a_store_outage_past_the_horizon_ends_failed_once_it_returns(h: Harness) -> None:
    now = in_the_broad_wave(h)
    h.world.store_outage = (now, now + 900)
    rollout = h.settle("r2", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.STEP_FAILED)
    assert "unreachable" in rollout.message
    assert {c.configurations["baseline"].commit for c in h.fleet.clusters.values()} == {GOOD}
    assert h.records.tracks.get("baseline").active_rollout_id is None


def test_the_reconciliation_closes_what_no_orchestration_could(h: Harness) -> None:
    now = in_the_broad_wave(h)
    h.world.store_outage = (now, now + 4 * 3600)  # longer than every retry of every step
    h.engine.run_until(lambda: h.instance_status("r2") == "Failed")
    h.run_for(timedelta(hours=4))
    assert h.state_of("r2") == "Running"  # nobody could write it down
    closing, _ = asyncio.run(reconcile(EngineClient(h.engine), h.world.rt))
    assert closing == ["r2"]
    rollout = h.settle("r2", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.ORCHESTRATION_LOST)
    # The first cause survives: the wave's step, then the failed attempt to record it.
    assert "found Failed by the reconciliation" in rollout.message
    assert "step 'advance_wave' (wave 'broad') failed" in rollout.message
    assert {c.configurations["baseline"].commit for c in h.fleet.clusters.values()} == {GOOD}
    assert asyncio.run(reconcile(EngineClient(h.engine), h.world.rt)) == ([], [])


def pending(h: Harness, rollout_id: str, revision: str) -> None:
    """A rollout recorded by a trigger whose hand-over to the track was cut short."""
    from shared.store import RolloutRecord, Trigger

    now = h.now()
    h.records.rollouts.create(
        RolloutRecord(
            id=rollout_id,
            track="baseline",
            revision=revision,
            trigger=Trigger(kind="git:github", actor="octocat", delivery_id=rollout_id),
            created_at=now,
            updated_at=now,
        )
    )


def test_the_reconciliation_hands_over_what_was_cut_short_but_never_an_older_revision(
    h: Harness,
) -> None:
    pending(h, "lost", GOOD)
    h.run_for(timedelta(minutes=6))
    assert asyncio.run(reconcile(EngineClient(h.engine), h.world.rt)) == ([], ["lost"])
    assert h.settle("lost", *TERMINAL).state is RolloutState.SUCCEEDED
    pending(h, "older", GOOD2)
    h.run_for(timedelta(seconds=1))
    h.roll(GOOD3, "newer")
    assert h.settle("newer", *TERMINAL).state is RolloutState.SUCCEEDED
    h.run_for(timedelta(minutes=6))
    assert asyncio.run(reconcile(EngineClient(h.engine), h.world.rt)) == ([], [])
    older = h.records.rollouts.get("baseline", "older")
    assert (older.state, older.reason) == (RolloutState.SUPERSEDED, Reason.SUPERSEDED)
    assert "'newer' was handed over since" in older.message
    assert GOOD2 not in {w.commit for w in h.fleet.writes}


def test_a_cluster_that_reconnects_is_caught_up_by_the_watch_without_any_event(
    h: Harness,
) -> None:
    from triggers.watch import catch_up_reconnected

    h.fleet.named("store-2").connectivity = h.fleet.named("store-2").connectivity.OFFLINE
    h.roll(GOOD, "r1")
    assert h.settle("r1", *TERMINAL).state is RolloutState.SUCCEEDED
    away = h.records.clusters.get("baseline", h.fleet.named("store-2").id)
    assert away.state is ClusterState.SKIPPED
    client = EngineClient(h.engine)
    assert asyncio.run(catch_up_reconnected(client, h.world.rt)) == []  # still away
    h.fleet.named("store-2").connectivity = h.fleet.named("store-2").connectivity.CONNECTED
    assert asyncio.run(catch_up_reconnected(client, h.world.rt)) == ["store-2"]
    assert asyncio.run(catch_up_reconnected(client, h.world.rt)) == ["store-2"]  # same catch-up
    h.engine.run_until_idle()
    back = h.records.clusters.get("baseline", h.fleet.named("store-2").id)
    assert (back.state, back.applied_revision) == (ClusterState.HEALTHY, GOOD)
    catch_ups = [r for r in h.records.rollouts.list("baseline") if r.trigger.kind == "catch-up"]
    assert len(catch_ups) == 1 and catch_ups[0].state is RolloutState.SUCCEEDED
    assert asyncio.run(catch_up_reconnected(client, h.world.rt)) == []
