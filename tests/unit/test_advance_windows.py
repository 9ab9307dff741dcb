"""The activities under maintenance windows, called one step at a time on a virtual clock:
plan resolves the windows that bind each cluster, advance writes nothing outside them and says
when the first held-back cluster may be written, restore leaves closed clusters for later, and
an override opens every gate; a batch that the write budget paces past a window's close is cut
there, the rest waiting for the next opening."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from activities import advance, plan, record, restore
from devhost.durable.clock import VirtualClock
from shared.adapters.fleet import WriteOutcome, window_closed
from shared.contracts.activities import AdvanceResult, PlanRequest, RolloutRef, WaveRef
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from shared.store import ClusterRecord, CommandRefused, RolloutRecord, StoreUnavailable, Trigger
from shared.store.rollouts import WindowsOverride
from shared.times import format_time
from tests.unit.orchestrators.world import GOOD, GOOD2, FakeConfiguration, World, Write

MIDNIGHT = datetime(2024, 1, 1, tzinfo=UTC)
WINDOWS: list[dict[str, Any]] = [
    {"name": "nightly", "schedule": "0 2 * * *", "duration": "1h"},
    {"name": "site-2", "schedule": "30 2 * * *", "duration": "1h", "clusters": {"site": "site-2"}},
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path, VirtualClock(MIDNIGHT))
    for i in range(1, 5):
        world.fleet.add(f"store-{i}", ring="broad", site=f"site-{1 + i % 2}")
    world.register(
        maintenanceWindows=WINDOWS,
        waves=[{"name": "broad", "maxConcurrency": 4, "windows": ["nightly"]}],
    )
    yield world


def start(world: World, rollout_id: str, revision: str) -> RolloutRef:
    record.record(
        world.rt,
        {
            "rolloutId": rollout_id,
            "track": "baseline",
            "key": "started",
            "reason": Reason.ROLLOUT_STARTED.value,
            "message": "rolling",
            "state": RolloutState.RUNNING.value,
            "revision": revision,
            "trigger": {"kind": "test", "actor": "pytest"},
        },
    )
    plan.plan(world.rt, PlanRequest(rolloutId=rollout_id, track="baseline", revision=revision))
    return RolloutRef(rolloutId=rollout_id, track="baseline", revision=revision)


def step(world: World, ref: RolloutRef) -> AdvanceResult:
    return advance.advance(world.rt, WaveRef(**ref, wave="broad"))


def bound(world: World, rollout_id: str) -> dict[str, list[str]]:
    records = world.view.clusters.list("baseline", rollout=rollout_id)
    return {r.name: r.windows for r in records}


def test_plan_records_the_windows_that_bind_each_cluster(world: World) -> None:
    start(world, "r1", GOOD)
    assert bound(world, "r1") == {
        "store-1": ["nightly", "site-2"],
        "store-2": ["nightly"],
        "store-3": ["nightly", "site-2"],
        "store-4": ["nightly"],
    }


def test_advance_writes_nothing_outside_and_says_when_the_first_opens(world: World) -> None:
    ref = start(world, "r1", GOOD)
    result = step(world, ref)
    assert (result["written"], result["pending"], result["inFlight"]) == (0, 4, 0)
    assert not result["settled"]
    assert result.get("outsideWindows") == 4
    assert result.get("nextOpening") == format_time(MIDNIGHT + timedelta(hours=2))
    assert world.fleet.writes == []

    world.clock.advance_to(MIDNIGHT + timedelta(hours=2))
    result = step(world, ref)
    # Only the clusters whose every window is open: site-2's opens at 02:30.
    assert {w.cluster for w in world.fleet.writes} == {"store-2", "store-4"}
    assert result["written"] == 2 and result.get("outsideWindows") == 2
    assert result.get("nextOpening") == format_time(MIDNIGHT + timedelta(hours=2, minutes=30))
    [first] = [e for e in world.view.timeline.list("r1") if e.data.get("firstWrite")]
    assert first.time == MIDNIGHT + timedelta(hours=2)

    world.clock.advance_to(MIDNIGHT + timedelta(hours=3))  # nightly has closed
    assert step(world, ref)["written"] == 0 and len(world.fleet.writes) == 2
    world.clock.advance_to(MIDNIGHT + timedelta(days=1, hours=2, minutes=30))
    result = step(world, ref)
    assert result["written"] == 2 and "outsideWindows" not in result
    assert len(world.fleet.writes) == 4


def test_a_wave_without_windows_reports_none(world: World) -> None:
    world.register(waves=[{"name": "broad"}])
    ref = start(world, "r1", GOOD)
    result = step(world, ref)
    assert result["written"] == 4
    assert "outsideWindows" not in result and "nextOpening" not in result
    assert not [e for e in world.view.timeline.list("r1") if e.data.get("firstWrite")]


def test_windows_that_never_open_together_are_a_plan_warning(world: World) -> None:
    world.register(
        maintenanceWindows=[WINDOWS[0], {**WINDOWS[1], "schedule": "0 5 * * *"}],
        waves=[{"name": "broad", "windows": ["nightly"]}],
    )
    ref = start(world, "r1", GOOD)
    [warning] = [
        e for e in world.view.timeline.list("r1") if e.reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
    ]
    assert warning.data["windows"] == [["nightly", "site-2"]]
    assert "of 2 of 4 clusters never open together" in warning.message
    result = step(world, ref)
    assert result.get("outsideWindows") == 4
    # store-2 and store-4 open at 02:00; the others never: the earliest opening is 02:00.
    assert result.get("nextOpening") == format_time(MIDNIGHT + timedelta(hours=2))


def test_an_override_opens_every_gate(world: World) -> None:
    ref = start(world, "r1", GOOD)
    override = WindowsOverride(by="alice", reason="hotfix", at=MIDNIGHT)
    world.view.rollouts.update(
        "baseline",
        "r1",
        lambda r: r.model_copy(
            update={"control": r.control.model_copy(update={"windows_override": override})}
        ),
    )
    result = step(world, ref)
    assert result["written"] == 4 and "outsideWindows" not in result
    [first] = [e for e in world.view.timeline.list("r1") if e.data.get("firstWrite")]
    assert "overridden" in first.message


def test_restore_leaves_clusters_whose_windows_are_closed_for_later(world: World) -> None:
    world.clock.advance_to(MIDNIGHT + timedelta(hours=2, minutes=30))
    ref = start(world, "r1", GOOD)
    assert step(world, ref)["written"] == 4
    request = WaveRef(**ref, wave="broad")
    world.clock.advance_to(MIDNIGHT + timedelta(hours=2, minutes=45))
    # Rolled back while every window is still open: restored at once (arcwave created the
    # configurations: they are removed).
    done = restore.restore(world.rt, request)
    assert done["removed"] == 4 and "outsideWindows" not in done

    ref = start(world, "r2", GOOD2)
    assert step(world, ref)["written"] == 4
    world.clock.advance_to(MIDNIGHT + timedelta(hours=3, minutes=10))  # nightly has closed
    before = len(world.fleet.writes)
    held = restore.restore(world.rt, WaveRef(**ref, wave="broad"))
    assert (held["removed"], held.get("outsideWindows")) == (0, 4)
    assert held.get("nextOpening") == format_time(MIDNIGHT + timedelta(days=1, hours=2))
    assert len(world.fleet.writes) == before
    records = world.view.clusters.list("baseline", rollout="r2", wave="broad")
    assert not any(r.state is ClusterState.ROLLING_BACK for r in records)

    world.clock.advance_to(MIDNIGHT + timedelta(days=1, hours=2))  # site-2 still closed
    some = restore.restore(world.rt, WaveRef(**ref, wave="broad"))
    assert (some["removed"], some.get("outsideWindows")) == (2, 2)
    assert {w.cluster for w in world.fleet.writes[before:]} == {"store-2", "store-4"}
    world.clock.advance_to(MIDNIGHT + timedelta(days=1, hours=2, minutes=30))
    rest = restore.restore(world.rt, WaveRef(**ref, wave="broad"))
    assert rest["removed"] == 2 and "outsideWindows" not in rest


def test_a_fast_rollback_keeps_each_clusters_windows(world: World) -> None:
    world.view.rollouts.save(
        RolloutRecord(
            id="fast-1",
            track="baseline",
            revision=GOOD,
            trigger=Trigger(kind="rollback:fast", actor="pytest", undoes="r0"),
            fast=True,
            created_at=MIDNIGHT,
            updated_at=MIDNIGHT,
        )
    )
    ref = start(world, "fast-1", GOOD)
    records = world.view.clusters.list("baseline", rollout="fast-1")
    assert {r.wave for r in records} == {"fast"}
    assert {r.name: r.windows for r in records} == bound(world, "fast-1")
    assert all("nightly" in r.windows for r in records)
    result = advance.advance(world.rt, WaveRef(**ref, wave="fast"))
    assert result["written"] == 0 and result.get("outsideWindows") == 4


def test_an_override_is_given_once_and_never_to_a_rollout_that_ended(world: World) -> None:
    start(world, "r1", GOOD)
    rollout = world.view.rollouts.get("baseline", "r1")
    overridden = rollout.overriding_windows("alice", "CVE hotfix", MIDNIGHT)
    assert overridden.control.windows_override == WindowsOverride(
        by="alice", reason="CVE hotfix", at=MIDNIGHT
    )
    with pytest.raises(CommandRefused, match="overridden already, by alice at 2024-01-01T00"):
        overridden.overriding_windows("bob", "again", MIDNIGHT)
    ended = rollout.model_copy(update={"state": RolloutState.SUCCEEDED})
    with pytest.raises(CommandRefused, match="is Succeeded and will not change again"):
        ended.overriding_windows("alice", "late", MIDNIGHT)


# -- a batch that ARM's write budget paces past the close ----------------------------------------

CLOSE = MIDNIGHT + timedelta(hours=3)
NEXT_OPENING = MIDNIGHT + timedelta(days=1, hours=2)
HAND_MADE = "https://github.com/contoso/hand-made"


@pytest.fixture
def straddling(world: World) -> World:
    """Four stores under `nightly` alone (02:00-03:00), each with a configuration made by hand
    (so each gets a restore point), two seconds before the close, and a write budget of one
    write a second: a batch of four cannot be written before the close."""
    world.register(
        maintenanceWindows=[WINDOWS[0]],
        waves=[{"name": "broad", "maxConcurrency": 4, "windows": ["nightly"]}],
    )
    for i in range(1, 5):
        world.fleet.named(f"store-{i}").configurations["baseline"] = FakeConfiguration(
            body={
                "properties": {"sourceKind": "GitRepository", "gitRepository": {"url": HAND_MADE}}
            },
            written=world.clock.time(),
            modified_by="someone@contoso.com",
        )
    world.clock.advance_to(CLOSE - timedelta(seconds=2))
    world.fleet.pace(rate=1.0, burst=1)
    return world


def found_by_hand(record: ClusterRecord) -> bool:
    point = record.restore_point
    return (
        point is not None
        and point.configuration is not None
        and point.configuration["properties"]["gitRepository"]["url"] == HAND_MADE
    )


def test_a_batch_paced_past_the_close_writes_nothing_after_it(straddling: World) -> None:
    world = straddling
    ref = start(world, "r1", GOOD)
    result = step(world, ref)
    # 02:59:58 and 02:59:59 had a token; the third came at 03:00:00, the close: not sent.
    assert [at(w) for w in world.fleet.writes] == [
        CLOSE - timedelta(seconds=2),
        CLOSE - timedelta(seconds=1),
    ]
    assert (result["written"], result["pending"], result["inFlight"]) == (2, 2, 2)
    assert result.get("outsideWindows") == 2
    assert result.get("nextOpening") == format_time(NEXT_OPENING)
    assert result["failures"] == {} and not result["settled"]
    written = {w.cluster for w in world.fleet.writes}
    held = [r for r in records_of(world, "r1") if r.name not in written]
    assert len(held) == 2
    for kept in held:
        # Back to Pending as before the write, no failure, its restore point kept.
        assert kept.state is ClusterState.PENDING
        assert kept.reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
        assert "window closed at 2024-01-01 03:00:00 UTC" in kept.message
        assert (kept.desired_revision, kept.written_at) == (None, None)
        assert found_by_hand(kept)
    points = {r.name: r.restore_point for r in held}

    world.clock.advance_to(NEXT_OPENING)
    result = step(world, ref)
    assert result["written"] == 2 and "outsideWindows" not in result
    late = world.fleet.writes[2:]
    assert {w.cluster for w in late} == set(points)
    assert all(NEXT_OPENING <= at(w) < NEXT_OPENING + timedelta(hours=1) for w in late)
    for later in records_of(world, "r1"):
        if later.name in points:
            assert later.restore_point == points[later.name]  # not captured again


def test_a_crash_before_the_undo_leaves_the_writes_applying_for_the_next_opening(
    straddling: World,
) -> None:
    world = straddling
    ref = start(world, "r1", GOOD)
    # The store is lost from the close on: the writes recorded ahead cannot be undone.
    world.store_outage = (CLOSE.timestamp(), (CLOSE + timedelta(minutes=5)).timestamp())
    with pytest.raises(StoreUnavailable):
        step(world, ref)
    assert len(world.fleet.writes) == 2
    records = records_of(world, "r1")
    assert {r.state for r in records} == {ClusterState.APPLYING}
    assert all(r.desired_revision == GOOD and found_by_hand(r) for r in records)
    # A rollback now would restore all four, written or not.
    assert len(restore.written_by(records, GOOD)) == 4

    world.clock.advance_to(CLOSE + timedelta(minutes=10))
    result = step(world, ref)
    assert result["written"] == 0 and len(world.fleet.writes) == 2
    assert result.get("outsideWindows") == 4
    assert result.get("nextOpening") == format_time(NEXT_OPENING)

    world.clock.advance_to(NEXT_OPENING)
    step(world, ref)
    assert len(world.fleet.writes) == 6
    assert all(at(w) < CLOSE or at(w) >= NEXT_OPENING for w in world.fleet.writes)
    # Their progress deadline (5m) runs from this write, not from the one a night ago.
    records = records_of(world, "r1")
    assert {r.state for r in records} <= {ClusterState.PROGRESSING, ClusterState.HEALTHY}
    assert all(r.written_at is not None and r.written_at >= NEXT_OPENING for r in records)


def test_a_write_cut_off_after_an_attempt_that_may_have_landed_stays_applying(
    straddling: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = straddling
    ref = start(world, "r1", GOOD)

    def cut_off(cluster_ids: list[str], name: str, body: Any, **kw: Any) -> list[WriteOutcome]:
        # As the gateway reports a write whose first attempt got a 503 and whose retry came
        # after the close.
        world.clock.advance_to(CLOSE)
        return [window_closed(c, CLOSE, maybe_written=True) for c in cluster_ids]

    monkeypatch.setattr(world.fleet, "write_many", cut_off)
    result = step(world, ref)
    assert result["written"] == 0 and result.get("outsideWindows") == 4
    records = records_of(world, "r1")
    assert {r.state for r in records} == {ClusterState.APPLYING}
    assert all(r.desired_revision == GOOD and found_by_hand(r) for r in records)


def test_a_restore_paced_past_the_close_restores_the_rest_in_the_next_opening(
    straddling: World,
) -> None:
    world = straddling
    world.fleet.pace(rate=1e9, burst=10**9)
    world.clock.advance_to(CLOSE - timedelta(minutes=30))
    ref = start(world, "r1", GOOD)
    assert step(world, ref)["written"] == 4
    world.clock.advance_to(CLOSE - timedelta(seconds=2))
    world.fleet.pace(rate=1.0, burst=1)
    before = len(world.fleet.writes)
    done = restore.restore(world.rt, WaveRef(**ref, wave="broad"))
    # Each cluster gets its hand-made configuration back: two before the close, two later.
    assert (done["reinstated"], done.get("outsideWindows")) == (2, 2)
    assert done.get("nextOpening") == format_time(NEXT_OPENING)
    assert all(at(w) < CLOSE for w in world.fleet.writes[before:])
    records = records_of(world, "r1")
    assert sum(r.state is ClusterState.ROLLING_BACK for r in records) == 2

    world.clock.advance_to(NEXT_OPENING)
    rest = restore.restore(world.rt, WaveRef(**ref, wave="broad"))
    assert rest["reinstated"] == 2 and "outsideWindows" not in rest
    assert all(at(w) >= NEXT_OPENING for w in world.fleet.writes[before + 2 :])


def records_of(world: World, rollout_id: str) -> list[ClusterRecord]:
    return world.view.clusters.list("baseline", rollout=rollout_id, wave="broad")


def at(write: Write) -> datetime:
    return datetime.fromtimestamp(write.time, UTC)
