"""The ETA against a real rollout on the local stack: a small rollout, whose expected reconcile
time is configured to the emulator's own (every cluster reconciles in exactly `RECONCILE`
seconds), finishes when its plan said, and a running rollout's ETA moves with it.

How close is close. The plan is the earliest: each cluster from its write to Flux's reconcile,
the soak, nothing else; so the rollout is never early (beyond `EARLY`, the clocks' grain). It
reads each verdict at the wave's next look, every `POLL` seconds after its last one: with a
reconcile time that is a whole number of poll intervals, as here, the look that sees a batch
healthy comes right after Flux finished, and the rollout lands within one poll interval of
the plan, plus `SLACK` for the orchestration's own steps (starting and recording each wave,
the soak's durable timer, the activities around each write) on a machine the tests share. A
reconcile time between two looks would cost up to one poll interval per batch instead.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rollout_support import GOOD, GOOD2, Stack, api, running_stack, track_spec, written_at

from shared.durations import parse_duration
from shared.states import RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e

RECONCILE = 2.0
"""The emulator's reconcile time for every cluster, and the track's `expectedReconcile`."""
POLL = 0.5
"""ARCWAVE_POLL_SECONDS of the stack (rollout_support)."""
SLACK = 1.0
"""The orchestration's own steps over a whole rollout (measured: about 0.45 s in all)."""
EARLY = timedelta(milliseconds=50)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    flux = {
        "branchHeads": {"main": GOOD},
        "reconcileSeconds": {"min": RECONCILE, "max": RECONCILE},
    }
    with running_stack(tmp_path, flux=flux) as running:
        yield running


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def register(stack: Stack) -> None:
    spec = track_spec(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}, "soak": "1s"},
            {"name": "rest", "maxConcurrency": 5},
        ],
        expectedReconcile=f"{RECONCILE:g}s",
    )
    code, body = api(stack, "PUT", "tracks/baseline", spec)
    assert code == 201, body


def test_a_small_rollout_finishes_when_its_plan_said(stack: Stack) -> None:
    register(stack)
    code, plan = api(stack, "POST", "tracks/baseline/plan", {"revision": GOOD2})
    assert code == 200, plan
    eta = plan["eta"]
    assert [w["reconcile"]["source"] for w in eta["waves"]] == ["track", "track"]
    # canary: 2 at once, then 1s soak; rest: 10 clusters, 5 at a time: 2 batches.
    assert [len(w["batches"]) for w in eta["waves"]] == [1, 2]
    predicted = at(eta["finish"]) - at(eta["waves"][0]["start"])
    assert predicted == timedelta(seconds=3 * RECONCILE + 1)

    code, handed = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD2})
    assert code == 202, handed
    rollout_id = handed["rolloutId"]
    stack.wait_state(rollout_id, RolloutState.SUCCEEDED, RolloutState.FAILED, timeout=60)
    first = min(written_at(w) for w in stack.writes())
    took = stack.wave_finished_at(rollout_id, "rest") - first
    late = took - predicted
    assert -EARLY <= late <= timedelta(seconds=POLL + SLACK), (took, predicted)
    code, ended = api(stack, "GET", f"rollouts/{rollout_id}")
    assert code == 200 and ended["state"] == "Succeeded" and ended["eta"] is None


def test_a_running_rollouts_eta_moves_with_it(stack: Stack) -> None:
    register(stack)
    code, handed = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD2})
    assert code == 202, handed
    rollout_id = handed["rolloutId"]

    def in_wave(name: str) -> dict[str, Any] | None:
        code, body = api(stack, "GET", f"rollouts/{rollout_id}")
        assert code == 200, body
        waves = {w["name"]: w["state"] for w in body["waves"]}
        running = waves.get(name) in ("Applying", "Progressing") and body["eta"]
        return body if running else None

    early = eventually(lambda: in_wave("canary"), timeout=30, what="the canary running")
    later = eventually(lambda: in_wave("rest"), timeout=30, what="the rest running")
    for body in (early, later):
        assert [w["name"] for w in body["eta"]["waves"]] == ["canary", "rest"]
    assert at(later["eta"]["asOf"]) > at(early["eta"]["asOf"])
    assert later["eta"]["waves"][0]["phase"] == "done"
    # What is left once the canary is done: the rest's two batches.
    left = at(later["eta"]["finish"]) - at(later["eta"]["asOf"])
    assert left <= timedelta(seconds=2 * RECONCILE)
    stack.wait_state(rollout_id, RolloutState.SUCCEEDED, timeout=60)
    ended = stack.wave_finished_at(rollout_id, "rest")
    late = ended - at(later["eta"]["finish"])
    assert -EARLY <= late <= timedelta(seconds=POLL + SLACK), (ended, later["eta"]["finish"])
    assert parse_duration(later["eta"]["waves"][1]["reconcile"]["duration"]) == timedelta(
        seconds=RECONCILE
    )


def test_a_wave_waiting_for_its_window_finishes_when_its_plan_said(stack: Stack) -> None:
    """The issue's window scenario: the rest's window opens after the canary is done; the wave
    waits, writes only inside the window, and ends when the plan said (within a poll)."""
    opening = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
    spec = track_spec(
        maintenanceWindows=[{"name": "night", "start": opening.isoformat(), "duration": "2m"}],
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}, "soak": "1s"},
            {"name": "rest", "maxConcurrency": 5, "windows": ["night"]},
        ],
        expectedReconcile=f"{RECONCILE:g}s",
    )
    code, body = api(stack, "PUT", "tracks/baseline", spec)
    assert code == 201, body
    code, plan = api(stack, "POST", "tracks/baseline/plan", {"revision": GOOD2})
    assert code == 200, plan
    rest = plan["eta"]["waves"][1]
    assert at(rest["start"]) == opening  # the canary is done long before the window opens
    predicted = at(plan["eta"]["finish"])
    assert predicted == opening + timedelta(seconds=2 * RECONCILE)

    code, handed = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD2})
    assert code == 202, handed
    rollout_id = handed["rolloutId"]
    stack.wait_state(rollout_id, RolloutState.SUCCEEDED, RolloutState.FAILED, timeout=90)
    closes = opening + timedelta(minutes=2)
    rest_writes = [written_at(w) for w in stack.writes() if not w["cluster"].startswith("canary")]
    assert len(rest_writes) == 10
    assert all(opening <= t < closes for t in rest_writes), (opening, sorted(rest_writes))
    late = stack.wave_finished_at(rollout_id, "rest") - predicted
    assert -EARLY <= late <= timedelta(seconds=POLL + SLACK), (late, predicted)
