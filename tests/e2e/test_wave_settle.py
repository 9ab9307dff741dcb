"""Waves settle on events, not polls, on the local stack: with a poll interval of 5 s, the next
wave's first write (the emulator's write log) comes within `SOON` of the moment the first
wave's last cluster reconciled, and of the first wave's verdict (the timeline).

Every cluster reconciles `RECONCILE` s after its write is done (the emulator's Flux); that
moment is taken as the last canary write + `RECONCILE`, a little before Flux really finishes,
so the bound is, if anything, strict. A wave that only polled would write the next wave about
a poll interval later.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rollout_support import GOOD, GOOD2, Stack, api, running_stack, track_spec, written_at

from shared.states import RolloutState

pytestmark = pytest.mark.e2e

POLL = "5"
RECONCILE = 1.0
SOON = timedelta(seconds=1.5)
FLUX = {"branchHeads": {"main": GOOD}, "reconcileSeconds": {"min": RECONCILE, "max": RECONCILE}}


def roll(stack: Stack, **spec: object) -> str:
    waves = [
        {"name": "canary", "selector": {"ring": "canary"}},
        {"name": "rest", "maxConcurrency": 10},
    ]
    code, body = api(stack, "PUT", "tracks/baseline", track_spec(waves=waves, **spec))
    assert code == 201, body
    code, handed = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD2})
    assert code == 202, handed
    rollout_id = str(handed["rolloutId"])
    ended = stack.wait_state(rollout_id, RolloutState.SUCCEEDED, RolloutState.FAILED, timeout=90)
    assert ended.state is RolloutState.SUCCEEDED, ended.message
    return rollout_id


def gaps(stack: Stack, rollout_id: str) -> tuple[timedelta, timedelta]:
    """From the canaries reconciled, and from the canary wave's verdict, to the rest's first
    write."""
    writes = stack.writes()
    canaries: list[datetime] = [written_at(w) for w in writes if w["cluster"].startswith("canary")]
    rest = min(written_at(w) for w in writes if not w["cluster"].startswith("canary"))
    reconciled = max(canaries) + timedelta(seconds=RECONCILE)
    verdict = stack.wave_finished_at(rollout_id, "canary")
    return rest - reconciled, rest - verdict


@pytest.fixture
def polled(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, env={"ARCWAVE_POLL_SECONDS": POLL}, flux=FLUX) as stack:
        yield stack


@pytest.fixture
def notified(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(
        tmp_path, env={"ARCWAVE_POLL_SECONDS": POLL}, flux_events=True, flux=FLUX
    ) as stack:
        yield stack


def test_without_flux_events_the_cadence_near_the_end_starts_the_next_wave(
    polled: Stack,
) -> None:
    rollout_id = roll(polled)
    after_reconcile, after_verdict = gaps(polled, rollout_id)
    assert after_reconcile <= SOON, after_reconcile
    assert after_verdict <= SOON, after_verdict


def test_a_flux_event_for_the_last_canary_starts_the_next_wave(notified: Stack) -> None:
    # The track expects a minute per reconcile: its cadence would not look before the poll,
    # so only the events can make the canary wave settle this soon.
    rollout_id = roll(notified, expectedReconcile="60s")
    after_reconcile, after_verdict = gaps(notified, rollout_id)
    assert after_reconcile <= SOON, after_reconcile
    assert after_verdict <= SOON, after_verdict
    assert notified.emulator.control.events()["sent"] >= 2
