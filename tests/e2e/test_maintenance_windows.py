"""Maintenance windows end to end, in real time: devhost serving the app, the emulator as
Azure. A wave whose clusters' one-off window opens a little after the rollout reaches it waits
(OutsideMaintenanceWindow, the opening in the message), writes only inside the window (the
emulator's write log says when each write arrived) and finishes; an Admin's override lets a
waiting wave write at once, and is recorded with who and why."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rollout_support import GOOD, Stack, api, running_stack, track_spec, written_at

from shared.reasons import Reason
from shared.states import RolloutState
from shared.store import TimelineEntry
from tests.support import eventually

pytestmark = pytest.mark.e2e

OPENS_IN = timedelta(seconds=15)
"""The window opens this long after the track is registered: the canary wave (no window) is
done well before, so the broad wave reaches it closed."""
LASTS = timedelta(minutes=2)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


def register(stack: Stack, opening: datetime) -> None:
    spec = track_spec(
        maintenanceWindows=[
            {"name": "store-slot", "start": opening.isoformat(), "duration": "2m"},
        ],
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "early", "selector": {"ring": "early"}, "maxConcurrency": 2},
            {"name": "broad", "maxConcurrency": 3, "windows": ["store-slot"]},
        ],
    )
    code, body = api(stack, "PUT", "tracks/baseline", spec)
    assert code == 201, body


def entries(stack: Stack, rollout_id: str, reason: Reason) -> list[TimelineEntry]:
    return [e for e in stack.records.timeline.list(rollout_id) if e.reason is reason]


def clock(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC" if at.second else "%Y-%m-%d %H:%M UTC")


def test_a_wave_waits_for_its_window_and_writes_only_inside_it(stack: Stack) -> None:
    opening = (datetime.now(UTC) + OPENS_IN).replace(microsecond=0)
    register(stack, opening)
    stack.roll(GOOD, "r1")
    waiting = eventually(
        lambda: entries(stack, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW),
        timeout=OPENS_IN.total_seconds(),
        what="the broad wave waiting for its window",
    )
    assert waiting[0].data["wave"] == "broad"
    assert f"next opening {clock(opening)}" in waiting[0].message
    rollout = stack.rollout("r1")
    assert rollout is not None and rollout.reason is Reason.OUTSIDE_MAINTENANCE_WINDOW
    assert not [w for w in stack.writes() if w["cluster"].startswith("store")]

    rollout = stack.wait_state("r1", RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    writes = stack.writes()
    stores = [written_at(w) for w in writes if w["cluster"].startswith("store")]
    others = [written_at(w) for w in writes if not w["cluster"].startswith("store")]
    assert len(stores) == 6 and len(others) == 6
    assert all(opening <= t < opening + LASTS for t in stores), (opening, stores)
    assert all(t < opening for t in others)
    # Recorded once, and the wave's first write is on the timeline at the time it was made.
    assert len(entries(stack, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW)) == 1
    [first] = [e for e in stack.records.timeline.list("r1") if e.data.get("firstWrite")]
    assert first.data["wave"] == "broad" and opening <= first.time <= min(stores)
    detail = api(stack, "GET", "rollouts/r1/timeline")[1]["timeline"]
    assert any(e["reason"] == "OutsideMaintenanceWindow" for e in detail)


def test_an_override_lets_a_waiting_wave_write_at_once_and_is_recorded(stack: Stack) -> None:
    opening = (datetime.now(UTC) + timedelta(hours=6)).replace(microsecond=0)
    register(stack, opening)
    stack.roll(GOOD, "r1")
    eventually(
        lambda: entries(stack, "r1", Reason.OUTSIDE_MAINTENANCE_WINDOW),
        timeout=60,
        what="the broad wave waiting for its window",
    )
    code, body = api(stack, "POST", "rollouts/r1/override-windows", {})
    assert code == 400 and body["errors"][0]["loc"] == "reason", body
    assert not [w for w in stack.writes() if w["cluster"].startswith("store")]

    before = datetime.now(UTC)
    code, body = api(
        stack, "POST", "rollouts/r1/override-windows", {"reason": "CVE-2026-1234, CHG-4711"}
    )
    assert code == 202, body
    assert body["command"] == "override-windows" and body["overriddenBy"]
    rollout = stack.wait_state("r1", RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    assert rollout.control.windows_override is not None
    code, detail = api(stack, "GET", "rollouts/r1")
    assert code == 200 and detail["windowsOverride"]["reason"] == "CVE-2026-1234, CHG-4711"
    assert detail["windowsOverride"]["by"] == body["overriddenBy"]
    stores = [written_at(w) for w in stack.writes() if w["cluster"].startswith("store")]
    assert len(stores) == 6 and all(before <= t < opening for t in stores)
    [overridden] = entries(stack, "r1", Reason.MAINTENANCE_WINDOW_OVERRIDDEN)
    assert overridden.actor == body["overriddenBy"]
    assert overridden.message.endswith(": CVE-2026-1234, CHG-4711")
    [first] = [e for e in stack.records.timeline.list("r1") if e.data.get("firstWrite")]
    assert "overridden" in first.message
    # Once per rollout, and never on one that has ended.
    code, body = api(stack, "POST", "rollouts/r1/override-windows", {"reason": "again"})
    assert code == 409 and "Succeeded" in body["error"], body


def test_a_wave_naming_an_unknown_window_is_refused_naming_the_field(stack: Stack) -> None:
    spec = track_spec(
        maintenanceWindows=[{"name": "nightly", "schedule": "0 2 * * *", "duration": "3h"}],
        waves=[{"name": "all", "windows": ["nigthly"]}],
    )
    code, body = api(stack, "PUT", "tracks/baseline", spec)
    assert code == 400, body
    assert [e["loc"] for e in body["errors"]] == ["waves[0].windows[0]"]
    assert "declared: nightly" in body["errors"][0]["msg"]
