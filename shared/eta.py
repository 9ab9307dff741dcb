"""When a rollout can finish: its waves and batches simulated against every limit. Pure and
deterministic: the same inputs give the same schedule.

The simulation plays the rollout the way the orchestrators run it, with every cluster taking
its expected reconcile time (write → Healthy verdict) and every gate passing at once:

- Waves run one after another; a wave begins when the one before has finished its soak. An
  approval is an unknown wait: it is marked (`approval: unknown wait`) and what follows is
  computed as if the approval came at once, so every time is the *earliest*.
- Within a wave the in-flight window slides: at most `max_in_flight` clusters (and
  `max_per_site` of one site) are between their write and their verdict; whenever a slot
  frees, the next pending clusters in write order that fit are taken.
- A cluster is taken only while all its maintenance windows are open, and written only if its
  write still falls inside that opening; otherwise it waits for the next opening (and other
  clusters go ahead of it, as the wave does).
- Each write takes a token from its subscription's bucket (burst, then `per_second`);
  subscriptions have separate buckets and proceed in parallel. A taken cluster whose token is
  not there yet holds its slot until it is (as the writer does, blocking on the bucket).
- Clusters skipped as offline take no slot, token or time.

A **batch** is the clusters written together into the window: the clusters taken at one
instant start a new batch when a cluster of the current batch has settled by then (a slot it
held is being refilled), else they join the current batch (the window was not full yet). With
equal reconcile times and no other limit, batches are the plan's rounds.

Inside, times are integer microseconds from `as_of` (`shared.eta_limits`); they leave as
timezone-aware UTC times.
"""

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from shared.eta_limits import NEVER, US, Limits
from shared.eta_model import (
    BatchEta,
    ClusterInput,
    Eta,
    Phase,
    WaveEta,
    WaveInput,
    Write,
    WriteBudget,
)
from shared.maintenance import HORIZON
from shared.times import format_time

__all__ = ["ClusterInput", "Phase", "WaveInput", "Write", "WriteBudget", "simulate"]

APPROVAL_WAIT = "approval: unknown wait"
PAUSED_WAIT = "paused: unknown wait"


def simulate(
    waves: Sequence[WaveInput],
    budget: WriteBudget,
    as_of: datetime,
    *,
    paused: bool = False,
    trace: list[Write] | None = None,
) -> Eta:
    """The earliest schedule of `waves` from `as_of`; `paused`: the rollout is paused now
    (marked as an unknown wait, and assumed resumed at once). Every predicted write is
    appended to `trace` when given."""
    run = _Run(budget, as_of, trace)
    unknown = [PAUSED_WAIT] if paused else []
    cursor: float = 0
    out: list[WaveEta] = []
    for wave in waves:
        eta, cursor = run.wave(wave, cursor)
        out.append(eta)
        if _awaits_approval(wave):
            unknown.append(f"wave '{wave.name}' {APPROVAL_WAIT}")
    finish = run.time(cursor)
    return Eta(
        as_of=as_of,
        finish=finish,
        duration=None if finish is None else finish - as_of,
        unknown_waits=unknown,
        write_burst=budget.burst,
        writes_per_second=budget.per_second,
        waves=out,
    )


def _awaits_approval(wave: WaveInput) -> bool:
    return wave.approval and wave.phase in (Phase.PENDING, Phase.AWAITING_APPROVAL)


@dataclass
class _Batch:
    clusters: list[str] = field(default_factory=list)
    first: int = 0
    last: int = 0
    finish: int = 0
    written: bool = False
    settled_any: bool = False


class _Flight(NamedTuple):
    """A cluster in flight, ordered by when it settles (`seq` breaks ties: the order taken)."""

    finish: int
    seq: int
    site: str
    batch: int


class _Run(Limits):
    """One simulation: the waves one after another, against the limits they share."""

    def wave(self, wave: WaveInput, cursor: float) -> tuple[WaveEta, float]:
        base = WaveEta(
            name=wave.name,
            phase=wave.phase.value,
            clusters=sum(1 for c in wave.clusters if not c.skip),
            skipped=sum(1 for c in wave.clusters if c.skip),
            reconcile=wave.reconcile,
            soak=wave.soak,
            waits=[APPROVAL_WAIT] if _awaits_approval(wave) else [],
        )
        if wave.phase is Phase.DONE:
            return base, cursor
        if cursor == NEVER:
            return base.model_copy(update={"blocked": "an earlier wave never finishes"}), NEVER
        ready = int(cursor)
        if wave.phase is Phase.SOAKING:
            ends = max(ready, self.us(wave.soak_ends) if wave.soak_ends else ready)
            update = {"ready": self.time(ready), "finish": self.time(ends)}
            return base.model_copy(update=update), ends
        batches, healthy, blocked, waits = self._window(wave, ready)
        if wave.started is not None:
            start = self.us(wave.started)
        else:
            start = min((b.first for b in batches), default=ready)
        finish = NEVER if blocked else healthy + wave.soak // US
        last_write = max((b.last for b in batches), default=start)
        eta = base.model_copy(
            update={
                "ready": self.time(ready),
                "start": self.time(start),
                "last_write": self.time(last_write),
                "healthy": None if blocked else self.time(healthy),
                "finish": self.time(finish),
                "duration": None if blocked else timedelta(microseconds=finish - start),
                "blocked": blocked,
                "waits": [*base.waits, *waits],
                "batches": [self._batch_eta(n, b) for n, b in enumerate(batches, start=1)],
            }
        )
        return eta, finish

    def _batch_eta(self, number: int, batch: _Batch) -> BatchEta:
        start, finish = self.time(batch.first), self.time(batch.finish)
        assert start is not None and finish is not None
        return BatchEta(
            number=number,
            clusters=batch.clusters,
            start=start,
            last_write=self.time(batch.last) or start,
            finish=finish,
            written=batch.written,
        )

    def _window(
        self, wave: WaveInput, ready: int
    ) -> tuple[list[_Batch], int, str | None, list[str]]:
        """Slide the wave's window from `ready`: its batches, when its last verdict comes, why
        it never ends (None when it does), and the maintenance waits it met."""
        window = _Window(self, wave, ready)
        t = ready
        while True:
            window.settle(t)
            if window.empty:
                return window.batches, window.healthy, None, window.waits
            following = window.fill(t)
            if not following:
                return window.batches, window.healthy, _never(window.stuck), window.waits
            t = int(min(following))


class _Window:
    """One wave's in-flight window as it slides: what flies, what waits, the batches so far."""

    def __init__(self, run: _Run, wave: WaveInput, ready: int) -> None:
        self.run = run
        self.name = wave.name
        self.cap = max(1, wave.max_in_flight)
        self.per_site = wave.max_per_site
        self.reconcile = wave.reconcile.duration // US
        self.flights: list[_Flight] = []
        self.busy: Counter[str] = Counter()
        self.batches: list[_Batch] = []
        self.healthy = ready
        self.waits: list[str] = []
        self.seq = 0
        # Clusters written before `ready` (a running wave) are its first batch: their verdicts
        # are due at their write + reconcile, or at `ready` when that has passed.
        flying = [(c, run.us(c.written_at)) for c in wave.clusters if c.written_at and not c.skip]
        if flying:
            writes = [at for _, at in flying]
            batch = _Batch(first=min(writes), last=max(writes), written=True)
            self.batches.append(batch)
            for cluster, at in flying:
                self.busy[_site(cluster)] += 1
                self._fly(cluster, max(ready, at + self._reconcile(cluster)), batch)
        self.pending: list[ClusterInput | None] = [
            c for c in wave.clusters if c.written_at is None and not c.skip
        ]
        self.head = 0

    @property
    def empty(self) -> bool:
        return self.head == len(self.pending) and not self.flights

    @property
    def stuck(self) -> list[str]:
        return [c.id for c in self.pending if c is not None]

    def settle(self, t: int) -> None:
        """Every verdict due by `t` frees its slot."""
        while self.flights and self.flights[0].finish <= t:
            done = heapq.heappop(self.flights)
            self.busy[done.site] -= 1
            self.batches[done.batch].settled_any = True
            self.healthy = max(self.healthy, done.finish)
        while self.head < len(self.pending) and self.pending[self.head] is None:
            self.head += 1

    def fill(self, t: int) -> list[float]:
        """Take at `t` the pending clusters that fit, in write order; the times something may
        change next (a verdict, a window opening). Empty: nothing ever will."""
        room = self.cap - len(self.flights)
        opens: list[float] = []
        taken: list[tuple[ClusterInput, int]] = []
        for index in range(self.head, len(self.pending)):
            if room <= 0:
                break
            cluster = self.pending[index]
            if cluster is None:
                continue
            if self.per_site is not None and self.busy[_site(cluster)] >= self.per_site:
                continue
            write, opening = self._write_time(cluster, t)
            if write is None:
                if opening is not None:
                    opens.append(opening)
                continue
            self.pending[index] = None
            taken.append((cluster, write))
            self.busy[_site(cluster)] += 1
            room -= 1
        if taken:
            self._batch(taken)
        elif opens and not self.flights:
            _note(self.waits, _window_wait(self.run.time(min(opens))))
        following: list[float] = [self.flights[0].finish] if self.flights else []
        return following + [o for o in opens if o > t]

    def _write_time(self, cluster: ClusterInput, t: int) -> tuple[int | None, float | None]:
        """When `cluster` is written if taken at `t` (its token taken), or None and when its
        windows open next (None: never)."""
        span = self.run.span(cluster.windows, t)
        if span is None:
            return None, None
        if span[0] > t:
            return None, span[0]
        bucket = self.run.bucket(cluster.subscription)
        write = bucket.next_token(t)
        if write >= span[1]:
            # The token comes after this opening closes: wait for the next one.
            after = self.run.opening(cluster.windows, int(span[1]))
            return None, None if after is None else after[0]
        bucket.take(write)
        return write, None

    def _batch(self, taken: list[tuple[ClusterInput, int]]) -> None:
        """Taken together: the current batch's, or a new batch when a cluster of the current
        one has settled (its slot is being refilled)."""
        current = self.batches[-1] if self.batches else None
        if current is None or current.settled_any or current.written:
            current = _Batch(first=taken[0][1], last=taken[0][1])
            self.batches.append(current)
        for cluster, write in taken:
            current.first = min(current.first, write)
            current.last = max(current.last, write)
            finish = write + self._reconcile(cluster)
            self._fly(cluster, finish, current)
            if self.run.trace is not None:
                at, settles = self.run.time(write), self.run.time(finish)
                assert at is not None and settles is not None
                self.run.trace.append(Write(cluster.id, self.name, at, settles))

    def _fly(self, cluster: ClusterInput, finish: int, batch: _Batch) -> None:
        """In flight until `finish`, in `batch` (the last one); its site's count is the
        caller's."""
        flight = _Flight(finish, self.seq, _site(cluster), len(self.batches) - 1)
        heapq.heappush(self.flights, flight)
        self.seq += 1
        batch.clusters.append(cluster.id)
        batch.finish = max(batch.finish, finish)

    def _reconcile(self, cluster: ClusterInput) -> int:
        return cluster.reconcile // US if cluster.reconcile is not None else self.reconcile


def _site(cluster: ClusterInput) -> str:
    return f"site:{cluster.site}" if cluster.site is not None else f"id:{cluster.id}"


MAX_WAITS = 5
"""Maintenance waits listed per wave; more are counted in the last line."""


def _note(waits: list[str], wait: str) -> None:
    if len(waits) < MAX_WAITS:
        waits.append(wait)
    elif len(waits) == MAX_WAITS:
        waits.append("… and more maintenance waits")


def _window_wait(opens: datetime | None) -> str:
    when = format_time(opens) if opens else "never"
    return f"maintenance window: nothing can be written until {when}"


def _never(stuck: list[str]) -> str:
    names = ", ".join(i.rsplit("/", 1)[-1] for i in stuck[:3])
    more = f" and {len(stuck) - 3} more" if len(stuck) > 3 else ""
    return (
        f"{len(stuck)} cluster(s) ({names}{more}) have no time within the next "
        f"{HORIZON.days} days when all their maintenance windows are open together: give "
        "them a window that opens"
    )
