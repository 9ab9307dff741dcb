"""Maintenance windows through the real orchestrators and activities, in virtual time (the
world starts at 2024-01-01 00:00 UTC): a wave outside its windows waits, recorded once, sleeps
until the opening and writes only inside; approvals, deadlines and rollbacks do not get round
the windows; catch-ups obey them; an override lets a waiting wave write at once; a batch that
ARM's write budget paces past the close is cut there."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.names import wave_instance
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from shared.store import TimelineEntry
from shared.store.rollouts import WindowsOverride
from tests.unit.orchestrators.world import BAD, GOOD, Harness, Write, cluster_id

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

DAY = datetime(2024, 1, 1, tzinfo=UTC)
NIGHTLY = {"name": "nightly", "schedule": "0 2 * * *", "duration": "1h"}


def windowed(h: Harness, *windows: dict[str, Any], broad: dict[str, Any] | None = None) -> None:
    h.world.register(
        maintenanceWindows=list(windows) or [NIGHTLY],
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "maxConcurrency": 2, "windows": ["nightly"], **(broad or {})},
        ],
    )


def writes_of(h: Harness, prefix: str, commit: str | None = None) -> list[Write]:
    return [
        w
        for w in h.fleet.writes
        if w.cluster.startswith(prefix) and (commit is None or w.commit == commit)
    ]


def at(write: Write) -> datetime:
    return datetime.fromtimestamp(write.time, UTC)


def entries(h: Harness, rollout_id: str, reason: Reason) -> list[TimelineEntry]:
    return [e for e in h.records.timeline.list(rollout_id) if e.reason is reason]


def advances(h: Harness, rollout_id: str, wave: str) -> int:
    """How many times the wave's orchestration called advance_wave."""
    history = h.engine.history(wave_instance(rollout_id, wave))
    return sum(1 for e in history if e["EventType"] == 4 and e.get("Name") == "advance_wave")


def test_a_wave_outside_its_window_waits_then_writes_only_inside_it(h: Harness) -> None:
    windowed(h)
    h.roll(GOOD, "r1")
    h.run_for(timedelta(minutes=10))
    rollout = h.records.rollouts.get("baseline", "r1")
    assert rollout.state is RolloutState.RUNNING
    assert rollout.reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
    assert "next opening 2024-01-01 02:00 UTC (in 1h" in rollout.message
    assert rollout.wave("broad").reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
    assert writes_of(h, "store") == []
    assert len(writes_of(h, "canary")) == 2  # the canary wave has no window

    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    opening = DAY + timedelta(hours=2)
    stores = writes_of(h, "store")
    assert len(stores) == 6
    assert all(opening <= at(w) < opening + timedelta(hours=1) for w in stores)
    # The wave slept until the opening: its first write is within one poll of it, and it
    # did not poll its way through the two hours.
    assert at(stores[0]) - opening < timedelta(seconds=h.poll_seconds)
    assert advances(h, "r1", "broad") < 20
    [waited] = entries(h, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)
    assert waited.data["wave"] == "broad" and waited.data["data"]["outside"] == 6
    first = [e for e in h.records.timeline.list("r1") if e.data.get("firstWrite")]
    assert [e.data["wave"] for e in first] == ["broad"]
    assert abs(first[0].time - at(stores[0])) < timedelta(seconds=1)
    assert "inside their windows" in first[0].message


def test_a_window_that_closes_mid_wave_holds_the_rest_until_it_opens_again(h: Harness) -> None:
    h.fleet.reconcile_seconds = 2.0
    windowed(h, {**NIGHTLY, "duration": "5s"}, broad={"maxConcurrency": 1})
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    stores = writes_of(h, "store")
    assert len(stores) == 6
    for write in stores:
        since_opening = at(write) - at(write).replace(hour=2, minute=0, second=0, microsecond=0)
        assert timedelta(0) <= since_opening < timedelta(seconds=5), at(write)
    assert len({at(w).date() for w in stores}) >= 2  # it took more than one night
    # Each wait is recorded once, and so is each return to writing; the progress deadline
    # (5m) never ran for a cluster that was not written.
    waits = entries(h, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)
    assert len(waits) == len({at(w).date() for w in stores})
    records = h.records.clusters.list("baseline", rollout="r1", wave="broad")
    assert {r.state for r in records} == {ClusterState.HEALTHY}


def test_a_batch_the_write_budget_paces_past_the_close_is_cut_at_the_close(h: Harness) -> None:
    # One write a second against a window of three seconds, and room for the whole wave in
    # flight: a batch of six begun at the opening would end three seconds after the close.
    h.fleet.pace(rate=1.0, burst=1)
    windowed(h, {**NIGHTLY, "duration": "3s"}, broad={"maxConcurrency": 6})
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    stores = writes_of(h, "store")
    assert len(stores) == 6
    for write in stores:
        opening = at(write).replace(hour=2, minute=0, second=0, microsecond=0)
        assert opening <= at(write) < opening + timedelta(seconds=3), at(write)
    # Each night's batch was cut at the close; the rest waited for the next night.
    nights = Counter(at(w).date() for w in stores)
    assert len(nights) >= 2 and max(nights.values()) <= 3, nights
    waits = entries(h, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)
    assert any("next opening 2024-01-02 02:00 UTC" in e.message for e in waits)
    records = h.records.clusters.list("baseline", rollout="r1", wave="broad")
    assert {r.state for r in records} == {ClusterState.HEALTHY}


def test_selector_windows_bind_clusters_and_every_window_must_be_open(h: Harness) -> None:
    site_1 = {
        "name": "site-1-nights",
        "schedule": "0 3 * * *",
        "duration": "1h",
        "clusters": {"ring": "broad", "site": "site-1"},
    }
    windowed(h, {**NIGHTLY, "duration": "2h"}, site_1, broad={"maxConcurrency": 6})
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded", "Failed").state is RolloutState.SUCCEEDED
    site = {c.name: c.tags["site"] for c in h.fleet.clusters.values()}
    for write in writes_of(h, "store"):
        opens = DAY + timedelta(hours=3 if site[write.cluster] == "site-1" else 2)
        assert opens <= at(write) < DAY + timedelta(hours=4), write


def test_an_approval_lets_the_wave_start_but_never_writes_outside_its_window(h: Harness) -> None:
    windowed(h, broad={"approval": True})
    h.roll(GOOD, "r1")
    h.settle("r1", "WaitingForApproval")
    h.command("r1", approvals={"broad": "alice"})
    h.run_for(timedelta(minutes=30))
    assert h.state_of("r1") == "Running"
    assert writes_of(h, "store") == []
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    assert min(at(w) for w in writes_of(h, "store")) >= DAY + timedelta(hours=2)


def test_an_override_lets_a_waiting_wave_write_at_once(h: Harness) -> None:
    # Two windows that never open together: the plan warns, the wave waits for ever...
    windowed(
        h,
        {"name": "nightly", "schedule": "0 1 * * *", "duration": "1h"},
        {"name": "late", "schedule": "0 3 * * *", "duration": "1h", "clusters": {"ring": "broad"}},
    )
    h.roll(GOOD, "r1")
    h.run_for(timedelta(minutes=20))
    [warning, waiting] = entries(h, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)
    assert "never open together within 400 days (late, nightly)" in warning.message
    assert "no opening within 400 days" in waiting.message
    assert writes_of(h, "store") == []
    # ...until an operator overrides the windows.
    when = h.now()
    override = WindowsOverride(by="alice", reason="CVE hotfix", at=when)
    h.command("r1", windows_override=override)
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    stores = writes_of(h, "store")
    assert len(stores) == 6 and at(stores[0]) - when < timedelta(seconds=h.poll_seconds)
    first = [e for e in h.records.timeline.list("r1") if e.data.get("firstWrite")]
    assert "overridden" in first[0].message


def test_a_rollback_restores_only_inside_the_windows(h: Harness) -> None:
    windowed(h, {**NIGHTLY, "duration": "5s"}, broad={"maxConcurrency": 6})
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    # BAD fails on the stores only after their window has closed: the rollback waits.
    h.fleet.failing = [("bad0", "store-*")]
    h.fleet.reconcile_seconds = 10.0
    h.roll(BAD, "r2")
    rollout = h.settle("r2", "RolledBack", "Failed", "Succeeded")
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    stores = writes_of(h, "store")
    bad = writes_of(h, "store", BAD)
    restored = [w for w in stores if w.commit == GOOD and w.time > bad[0].time]
    assert len(bad) == 6 and len(restored) == 6
    for write in stores:
        since_opening = at(write) - at(write).replace(hour=2, minute=0, second=0, microsecond=0)
        assert timedelta(0) <= since_opening < timedelta(seconds=5), write
    assert at(restored[0]).date() > at(bad[0]).date()
    waits = [
        e for e in entries(h, "r2", Reason.OUTSIDE_MAINTENANCE_WINDOW) if "rollback" in e.message
    ]
    assert len(waits) == 1 and waits[0].data["wave"] == "broad"
    # The canary wave, without windows, was restored once broad's rollback was done.
    assert all(w.time > restored[0].time for w in writes_of(h, "canary", GOOD)[2:])


def test_a_catch_up_waits_for_the_windows_of_its_clusters_wave(h: Harness) -> None:
    windowed(h)
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    h.run_for(timedelta(hours=2))  # 04:00: outside the window
    store = h.fleet.named("store-1")
    store.configurations.clear()
    h.roll(GOOD, "c1", clusters=[cluster_id("store-1")])
    h.run_for(timedelta(minutes=10))
    assert h.state_of("c1") == "Running"
    assert h.records.rollouts.get("baseline", "c1").reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
    assert h.settle("c1", "Succeeded").state is RolloutState.SUCCEEDED
    [caught] = [w for w in writes_of(h, "store-1") if at(w) > DAY + timedelta(hours=3)]
    assert DAY + timedelta(days=1, hours=2) <= at(caught) < DAY + timedelta(days=1, hours=3)


def test_a_pause_during_a_wait_ends_it_and_a_resume_waits_again(h: Harness) -> None:
    windowed(h, {**NIGHTLY, "schedule": "0 5 * * *"})
    opening = DAY + timedelta(hours=5)
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: len(entries(h, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)) == 1)
    h.command("r1", paused=True)
    h.engine.run_until(lambda: h.state_of("r1") == "Paused")
    h.command("r1", paused=False)
    h.engine.run_until(
        lambda: (
            len(entries(h, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)) == 2
            or bool(writes_of(h, "store"))
        )
    )
    assert h.now() < opening and writes_of(h, "store") == []
    rollout = h.records.rollouts.get("baseline", "r1")
    # Resumed, and waiting for the window again: the rollout says so, not just "Resumed".
    assert rollout.state is RolloutState.RUNNING
    assert rollout.reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    assert min(at(w) for w in writes_of(h, "store")) >= opening
