"""Rollouts end to end: the real orchestrators under devhost, the emulator as the fleet.

Each scenario checks arcwave's own state (rollout, waves, clusters, timeline) and the
emulator's write log: what was written, where, and in what order.
"""

from pathlib import Path

import pytest
from rollout_support import BAD, GOOD, GOOD2, GOOD3, Stack, running_stack, written_at

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.support import Topic

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    with running_stack(tmp_path) as running:
        running.register()
        yield running


def test_happy_path_moves_wave_by_wave(stack: Stack) -> None:
    stack.roll(GOOD, "r1")
    rollout = stack.wait_state("r1", RolloutState.SUCCEEDED, RolloutState.FAILED)
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    assert [w.state.value for w in rollout.waves] == ["Succeeded"] * 3
    writes = stack.writes()
    assert {w["commit"] for w in writes} == {GOOD}
    assert len({w["cluster"] for w in writes}) == 12
    canary_done = stack.wave_finished_at("r1", "canary")
    early_done = stack.wave_finished_at("r1", "early")
    for write in writes:
        if str(write["cluster"]).startswith("early"):
            assert written_at(write) > canary_done
        if str(write["cluster"]).startswith("store"):
            assert written_at(write) > early_done
    track = stack.records.tracks.get("baseline")
    assert (track.last_good_revision, track.active_rollout_id) == (GOOD, None)
    clusters = stack.records.clusters.list("baseline")
    assert {c.last_good_revision for c in clusters} == {GOOD}


def test_a_failing_canary_never_reaches_later_waves_and_is_rolled_back(stack: Stack) -> None:
    stack.roll(GOOD, "r1")
    stack.wait_state("r1", RolloutState.SUCCEEDED)
    stack.roll(BAD, "r2")
    rollout = stack.wait_state("r2", RolloutState.ROLLED_BACK, RolloutState.FAILED)
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    assert rollout.reason is Reason.ROLLED_BACK
    bad_writes = [w for w in stack.writes() if w["commit"] == BAD]
    assert {w["cluster"] for w in bad_writes} == {"canary-1", "canary-2"}
    canary = [w["commit"] for w in stack.writes() if w["cluster"] == "canary-1"]
    assert canary == [GOOD, BAD, GOOD]
    assert stack.records.tracks.get("baseline").last_good_revision == GOOD


def test_halt_leaves_the_canary_as_it_is(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(onFailure="halt")
        stack.roll(BAD, "r1")
        rollout = stack.wait_state("r1", RolloutState.FAILED, RolloutState.ROLLED_BACK)
        assert rollout.state is RolloutState.FAILED
        assert rollout.reason is Reason.FAILURE_BUDGET_EXCEEDED
        assert {w["commit"] for w in stack.writes()} == {BAD}
        failed = stack.records.clusters.list("baseline", state=ClusterState.FAILED)
        assert sorted(c.name for c in failed) == ["canary-1", "canary-2"]


def test_queue_coalesces_three_quick_revisions_to_the_newest(stack: Stack) -> None:
    stack.roll(GOOD, "r1")
    stack.roll(GOOD2, "r2")
    stack.roll(GOOD3, "r3")
    assert stack.wait_state("r1", RolloutState.SUCCEEDED).state is RolloutState.SUCCEEDED
    assert stack.wait_state("r3", RolloutState.SUCCEEDED).state is RolloutState.SUCCEEDED
    assert stack.wait_state("r2", RolloutState.SUPERSEDED).reason is Reason.SUPERSEDED
    assert GOOD2 not in {w["commit"] for w in stack.writes()}
    assert stack.records.tracks.get("baseline").last_good_revision == GOOD3


def test_lifecycle_events_are_published_once_each(tmp_path: Path) -> None:
    topic = Topic()
    try:
        env = {"ARCWAVE_EVENTGRID_ENDPOINT": topic.url, "ARCWAVE_EVENTGRID_KEY": "topic-key"}
        with running_stack(tmp_path, env=env) as stack:
            stack.register()
            stack.roll(GOOD, "r1")
            stack.wait_state("r1", RolloutState.SUCCEEDED)
            stack.roll(BAD, "r2")
            stack.wait_state("r2", RolloutState.ROLLED_BACK)
    finally:
        topic.close()
    events = [event for _, batch in topic.requests for event in batch]
    kinds = [(e["subject"], e["type"]) for e in events]
    assert kinds[:3] == [
        ("rollouts/r1", "arcwave.rollout.started"),
        ("rollouts/r1/waves/canary", "arcwave.wave.started"),
        ("rollouts/r1/waves/canary", "arcwave.wave.succeeded"),
    ]
    assert ("rollouts/r1", "arcwave.rollout.succeeded") in kinds
    assert ("rollouts/r2/waves/canary", "arcwave.wave.failed") in kinds
    assert ("rollouts/r2", "arcwave.rollout.rolledBack") in kinds
    assert len({e["id"] for e in events}) == len(events)
    failed = next(e for e in events if e["type"] == "arcwave.wave.failed")
    assert failed["data"]["reason"] == "FailureBudgetExceeded"
    assert failed["data"]["revision"] == BAD
