"""Due times of pending reconciles, by progression: ``time`` (a delay drawn from
``flux.reconcileSeconds`` times the cluster's slow factor), ``immediate`` or ``manual``."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

from emulator.scenario import FluxSpec

Clock = Callable[[], float]


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    cluster_key: tuple[str, str, str]
    name: str


class ReconcileQueue:
    """Due times of pending reconciles; the ticker pops what is due."""

    def __init__(self, flux: FluxSpec, clock: Clock, rng: random.Random) -> None:
        self.flux = flux
        self.clock = clock
        self.rng = rng
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._manual: dict[tuple[tuple[str, str, str], str], None] = {}

    def delay(self, slow_factor: float) -> float:
        span = self.flux.reconcile_seconds
        return self.rng.uniform(span.min, span.max) * slow_factor

    def schedule(self, cluster_key: tuple[str, str, str], name: str, slow_factor: float) -> None:
        if self.flux.progression == "manual":
            self._manual[(cluster_key, name)] = None
            return
        delay = 0.0 if self.flux.progression == "immediate" else self.delay(slow_factor)
        heapq.heappush(self._heap, _Due(self.clock() + delay, next(self._seq), cluster_key, name))

    def pop_due(self, now: float) -> list[tuple[tuple[str, str, str], str]]:
        due = []
        while self._heap and self._heap[0].due <= now:
            item = heapq.heappop(self._heap)
            due.append((item.cluster_key, item.name))
        return due

    def pop_all(self) -> list[tuple[tuple[str, str, str], str]]:
        items = [(item.cluster_key, item.name) for item in sorted(self._heap)]
        items.extend(self._manual)
        self._heap.clear()
        self._manual.clear()
        return items

    def clear(self) -> None:
        self._heap.clear()
        self._manual.clear()

    def __len__(self) -> int:
        return len(self._heap) + len(self._manual)
