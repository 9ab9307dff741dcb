"""How a wave learns that its last cluster settled: from a Flux event at once, else from its own
cadence near the end (`shared.cadence`), with the poll interval as the safety net; and the next
wave's first write follows the verdict without a wait.

The poll interval here is 10 s (the app's default), so a wave that only polled would learn of a
verdict up to 10 s late. Every figure is virtual time on the engine's clock.
"""

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrators import wave as wave_module
from shared.cadence import EARLY_LOOKS
from shared.names import wave_instance
from shared.states import ClusterState, RolloutState
from tests.unit.orchestrators.world import GOOD, EngineClient, Harness, run_world
from triggers.flux import wake_waves

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

POLL = 10.0
SOON = 1.0
"""How soon after its last cluster settles a wave's verdict, and after the verdict the next
wave's first write, must come."""
ADVANCE_SCHEDULED = 4
"""`TaskScheduled` in devhost's history event types."""
EVENTS_PER_LOOK = 8
"""A look's history: the activity scheduled and completed, its timer created and fired, and
the started and completed markers of the two episodes they take."""


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """Two canaries (2 s to reconcile) and 24 broad clusters; a 10 s poll."""
    for harness in run_world(tmp_path):
        harness.poll_seconds = POLL
        harness.fleet.add("canary-1", ring="canary", site="site-1")
        harness.fleet.add("canary-2", ring="canary", site="site-2")
        for i in range(1, 25):
            harness.fleet.add(f"store-{i:02d}", ring="broad", site=f"site-{i % 4}")
        harness.world.register(
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "broad", "maxConcurrency": 8},
            ]
        )
        yield harness


def epoch(when: datetime) -> float:
    return when.timestamp()


def verdict_at(h: Harness, rollout_id: str, wave: str) -> float:
    """When the rollout recorded the wave's verdict (its timeline)."""
    for entry in h.records.timeline.list(rollout_id):
        if entry.data.get("wave") == wave and entry.reason.value == "WaveSucceeded":
            return epoch(entry.time)
    raise AssertionError(f"no verdict for wave '{wave}'")


def written(h: Harness, prefix: str) -> list[float]:
    return [w.time for w in h.fleet.writes if w.cluster.startswith(prefix)]


def settled_at(h: Harness, prefix: str) -> float:
    """When the last of these clusters turned Healthy in the fleet (its write + reconcile)."""
    return max(
        w.time + h.fleet.slow.get(w.cluster, h.fleet.reconcile_seconds)
        for w in h.fleet.writes
        if w.cluster.startswith(prefix)
    )


def run_to(h: Harness, when: float) -> None:
    """Run everything due by `when` (virtual epoch seconds), no timer after it; then let the
    clock reach `when`."""
    store = h.engine.engine.store
    while True:
        due = store.next_visible_at()
        busy = store.pending_work(set(), 1) or store.ready_instances(set(), 1)
        if not busy and (due is None or due > when):
            break
        h.engine.step()
    h.world.clock.advance_to(when)


def state_of(h: Harness, name: str) -> ClusterState:
    return h.records.clusters.get("baseline", h.fleet.named(name).id).state


def flux_event(h: Harness, name: str) -> list[str]:
    """What `POST /api/flux/events` does for a reconcile of cluster `name`: the waves woken."""
    cluster = h.fleet.named(name).id
    return asyncio.run(
        wake_waves(EngineClient(h.engine), h.records, cluster, "ReconciliationSucceeded")
    )


def advance_calls(history: list[dict[str, Any]]) -> int:
    return sum(
        1 for e in history if e["EventType"] == ADVANCE_SCHEDULED and e["Name"] == "advance_wave"
    )


def test_the_next_wave_writes_within_a_second_of_the_last_canary_settling(h: Harness) -> None:
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    canaries_healthy = settled_at(h, "canary")
    verdict = verdict_at(h, "r1", "canary")
    first_broad = min(written(h, "store"))
    # No Flux event here: the wave's own cadence near the end finds the verdict, not the poll.
    assert 0 <= verdict - canaries_healthy <= SOON
    assert 0 <= first_broad - verdict <= SOON


def test_a_flux_event_for_the_last_cluster_in_flight_settles_the_wave_at_once(
    h: Harness,
) -> None:
    # Expected to take 60 s: the cadence has no reason to look before the poll.
    h.world.register(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "maxConcurrency": 8},
        ],
        expectedReconcile="60s",
    )
    h.fleet.slow = {"canary-1": 1.5, "canary-2": 3.25}
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: len(written(h, "canary")) == 2)
    canary = wave_instance("r1", "canary")
    first = max(written(h, "canary")) + 1.5
    run_to(h, first)
    assert flux_event(h, "canary-1") == [canary]
    run_to(h, first + 0.1)  # the look it woke
    assert state_of(h, "canary-1") is ClusterState.HEALTHY
    assert flux_event(h, "canary-1") == []  # settled: nothing to wake the wave for
    assert flux_event(h, "store-01") == []  # not written yet
    last = settled_at(h, "canary")
    run_to(h, last)
    assert state_of(h, "canary-2") is ClusterState.PROGRESSING
    assert flux_event(h, "canary-2") == [canary]
    h.settle("r1", "Succeeded", "Failed")
    assert verdict_at(h, "r1", "canary") - last <= 0.1  # at once: the poll is 6.75 s later


def test_a_flux_event_during_a_rollback_wakes_the_rollback_only(h: Harness) -> None:
    h.world.register(
        waves=[{"name": "canary", "selector": {"ring": "canary"}}, {"name": "broad"}],
        onFailure="rollback",
    )
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    bad = "bad0" + GOOD[4:]
    h.roll(bad, "r2")
    canary = h.fleet.named("canary-1").id

    def rolling_back() -> bool:
        record = h.records.clusters.get("baseline", canary)
        return record.state is ClusterState.ROLLING_BACK

    h.engine.run_until(rolling_back)
    assert flux_event(h, "canary-1") == [wave_instance("r2", "canary", rollback=True)]
    assert flux_event(h, "store-01") == []  # Pending in r2: never written
    assert h.settle("r2", "RolledBack", "Failed").state is RolloutState.ROLLED_BACK


def broad_wave(
    h: Harness, early_looks: int, slow: float, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    """Roll the broad wave, one cluster `slow` seconds to reconcile, the wave allowed
    `early_looks` looks before its poll: its advance calls and its history events."""
    monkeypatch.setattr(wave_module, "EARLY_LOOKS", early_looks)
    h.fleet.slow["store-24"] = slow
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded", "Failed").state is RolloutState.SUCCEEDED
    history = h.engine.history(wave_instance("r1", "broad"))
    return advance_calls(history), len(history)


@pytest.mark.parametrize(
    ("poll", "slow", "concurrency"),
    [(POLL, 45.0, 8), (3600.0, 2000.0, 24)],
    ids=["poll-10s", "poll-1h"],
)
def test_the_cadence_near_the_end_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, poll: float, slow: float, concurrency: int
) -> None:
    """The same wave without looks before its poll (a wave that only polls) and with them: the
    looks it adds are few, at most `EARLY_LOOKS`, each a handful of history events. With an
    hour's poll and a cluster that takes half of it, the cadence would go on (0.25 s doubling
    towards an hour): the cap holds it."""
    figures = {}
    for allowed in (0, EARLY_LOOKS):
        state = tmp_path / f"early-{allowed}"
        state.mkdir()
        for harness in run_world(state):
            harness.poll_seconds = poll
            for i in range(1, 25):
                harness.fleet.add(f"store-{i:02d}", ring="broad", site=f"site-{i % 4}")
            harness.world.register(
                waves=[{"name": "broad", "maxConcurrency": concurrency}], progressDeadline="2h"
            )
            figures[allowed] = broad_wave(harness, allowed, slow, monkeypatch)
    (polled, polled_events), (cadenced, cadenced_events) = figures[0], figures[EARLY_LOOKS]
    added = cadenced - polled
    assert 0 < added <= EARLY_LOOKS, figures
    assert cadenced_events - polled_events <= added * EVENTS_PER_LOOK, figures
    assert cadenced_events <= 2000
