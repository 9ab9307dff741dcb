"""The physical limit of a rollout: how fast ARM and Flux let it go, whatever arcwave does.

A rollout cannot beat ARM's write bucket, per subscription (200 writes at once, then 10 per
second; `ARM_WRITES`), nor its clusters' reconcile: each cluster is Healthy at the earliest
its write + the time its write takes to provision and reconcile. The ideal plays the rollout
against exactly that, with arcwave's own rules only where they are the rollout's semantics:

- each subscription spends its own bucket, the subscriptions side by side; a token spent by
  a write is gone (the bucket refills continuously from what is left, never above its
  burst), and what refills during a wave's last reconcile carries over to the next wave;
- a wave ends when its last cluster is Healthy: its last write + the slowest reconcile, every
  cluster taken to need the slowest (`slowest`, e.g. the emulator's operation time + its
  longest Flux reconcile);
- waves run one after another; within a wave at most `max_in_flight` clusters are between
  their write and their verdict (the in-flight window, the plan's `maxConcurrency`);
- a wave's clusters are written with the subscriptions interleaved in proportion, so no
  subscription waits behind another's clusters in the window.

What arcwave adds on top (planning, polls, activity and orchestration latency) is what a
bench's ratio `wall / ideal` measures. The simulation is the ETA's own (`shared.eta`), fed
ARM's bucket instead of the gateway's settings: one model of pacing, not two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared import planner
from shared.eta import ClusterInput, WaveInput, WriteBudget, simulate
from shared.eta_model import ReconcileEta, ReconcileSource

ARM_WRITES = WriteBudget(burst=200, per_second=10.0)
"""ARM's write bucket per subscription (and principal): 200 at once, 10 per second."""
_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IdealWave:
    """One wave as the ideal sees it: how many of its clusters each subscription holds, its
    in-flight window (None: the whole wave) and the slowest write → Healthy, in seconds."""

    name: str
    clusters: Mapping[str, int]
    slowest: float
    max_in_flight: int | None = None

    @property
    def size(self) -> int:
        return sum(self.clusters.values())


def interleaved(counts: Mapping[str, int]) -> list[str]:
    """One subscription per cluster, spread in proportion to their counts as the plan's write
    order spreads them (`shared.planner.interleaved`; for 3 and 1: a, a, b, a)."""
    return planner.interleaved([s for s, n in counts.items() for _ in range(n)], str)


def ideal_seconds(waves: Sequence[IdealWave], budget: WriteBudget = ARM_WRITES) -> float:
    """The rollout's physical limit in seconds: from its first write to its last cluster
    Healthy (module docstring)."""
    return sum(wave_seconds(waves, budget))


def wave_seconds(waves: Sequence[IdealWave], budget: WriteBudget = ARM_WRITES) -> list[float]:
    """Each wave's share of the ideal: from the end of the wave before (or the start) to its
    own last cluster Healthy."""
    inputs = [
        WaveInput(
            name=wave.name,
            clusters=[
                ClusterInput(id=f"{wave.name}/{n}", subscription=subscription)
                for n, subscription in enumerate(interleaved(wave.clusters))
            ],
            max_in_flight=wave.max_in_flight or max(wave.size, 1),
            reconcile=ReconcileEta(
                duration=timedelta(seconds=wave.slowest), source=ReconcileSource.WAVE
            ),
        )
        for wave in waves
    ]
    eta = simulate(inputs, budget, _AS_OF)
    shares: list[float] = []
    before = _AS_OF
    for wave in eta.waves:
        finish = wave.finish or before  # an empty wave takes no time
        shares.append((finish - before).total_seconds())
        before = finish
    return shares
