"""When a cluster may be written: the openings of its maintenance windows. Pure, given a time.

Every window that applies to a cluster must be open for it to be written (the wave's windows
and every window whose `clusters` selector matches it): windows narrow, they never widen. So a
cluster's writable time is the intersection of its windows' openings; `open_span` finds the
first stretch of it at or after a given time. A cluster with no window may be written at any
time. All times here are timezone-aware UTC; schedules are read in each window's own zone.

Wall-clock times that a daylight saving change skips or repeats:

- a schedule (or one-off start) that falls in the hour the clocks skip opens when the clocks
  jump, at the first instant after the gap (02:30 on the spring-forward night in Berlin opens
  at 03:00 CEST), as cron does;
- a wall-clock time that occurs twice (the hour the clocks go back) opens the window once, at
  its first occurrence, unless the schedule's hour field is a wildcard (`*`, `*/2`): then it
  opens at both, as cron runs such jobs;
- a window stays open for its `duration` of elapsed time, however the clocks move meanwhile.
"""

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

from shared.cluster import Cluster
from shared.planner import plan_rollout
from shared.trackspec import TrackSpec
from shared.trackspec.windows import MaintenanceWindow

HORIZON = timedelta(days=400)
"""How far ahead an opening is looked for: beyond a year, a window is taken as never opening."""
ALWAYS_OPEN_END = datetime.max.replace(tzinfo=UTC)
"""The end of the span of a cluster with no window."""
MERGE_LIMIT = timedelta(days=1)
"""Openings that overlap or touch are one span, up to this long; a window open for longer
(a schedule that reopens before it closes) is given in pieces of about this length, each
starting at or before the previous one ends."""
_PIECES = 4
"""How many pieces of one long opening `WriteGate.closes` follows at most: past a day ahead,
a write deadline no longer matters."""
_LOOKBACK = timedelta(hours=3)
"""How far before the first wanted time schedules are read in wall-clock time: longer than
any repeated hour (a daylight saving change that sets the clocks back)."""


@dataclass(frozen=True)
class Span:
    """A stretch of time [start, end) in which every applicable window is open.

    The windows are open at least until `end`; one that stays open for longer than
    `MERGE_LIMIT` comes in pieces, so asking `open_span` again at `end` starts right there."""

    start: datetime
    end: datetime

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def openings(window: MaintenanceWindow, after: datetime) -> Iterator[Span]:
    """The window's openings, in order, from the one that is open at `after` (if any) on:
    every span that ends after `after`. Openings that overlap or touch come as one span."""
    after = after.astimezone(UTC)
    if window.start is not None:
        start = window.start
        if start.tzinfo is None:
            start = _instants(start, window.zone, both=False)[0]
        start = start.astimezone(UTC)
        if start + window.duration > after:
            yield Span(start, start + window.duration)
        return
    assert window.schedule is not None  # one of the two, by validation
    # An opening that started up to one duration ago is still open: begin the search there.
    starts = _scheduled(window.schedule, window.zone, after - window.duration)
    spans = (Span(s, s + window.duration) for s in starts)
    for span in _merged(spans):
        if span.end > after:
            yield span


def _merged(spans: Iterator[Span]) -> Iterator[Span]:
    current = next(spans, None)
    if current is None:
        return
    for span in spans:
        if span.start <= current.end and current.end - current.start < MERGE_LIMIT:
            current = Span(current.start, max(current.end, span.end))
            continue
        yield current
        current = span
    yield current


def _scheduled(schedule: str, zone: ZoneInfo, since: datetime) -> Iterator[datetime]:
    """The instants (UTC, strictly increasing) at which `schedule`, read in `zone`'s wall-clock
    time, fires, from a little before `since` on."""
    wall = (since - _LOOKBACK).astimezone(zone).replace(tzinfo=None)
    both = schedule.split()[1].startswith("*")
    times = croniter(schedule, wall)
    pending: list[datetime] = []
    last: datetime | None = None
    while True:
        try:
            naive = times.get_next(datetime)
        except CroniterBadDateError:  # no later date matches: the schedule is over
            return
        instants = _instants(naive, zone, both=both)
        for instant in instants:
            heapq.heappush(pending, instant)
        # A later wall-clock time never maps before this one's first instant: what lies at or
        # before it is in order.
        floor = instants[0]
        while pending and pending[0] <= floor:
            instant = heapq.heappop(pending)
            if last is None or instant > last:
                last = instant
                yield instant


def _instants(naive: datetime, zone: ZoneInfo, *, both: bool) -> list[datetime]:
    """When the wall-clock time `naive` happens in `zone`, in UTC: once; at the end of the
    gap when the clocks skip it; at its first occurrence (and its second, with `both`) when
    they go back over it."""
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    if first.astimezone(zone).replace(tzinfo=None) == naive:  # it exists twice
        early, late = sorted((first, second))
        return [early, late] if both else [early]
    return [_transition(min(first, second), max(first, second), zone)]


def _transition(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant in (before, after] at which `zone` takes `after`'s UTC offset."""
    target = after.astimezone(zone).utcoffset()
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def open_span(
    windows: Sequence[MaintenanceWindow], at: datetime, horizon: timedelta = HORIZON
) -> Span | None:
    """The first stretch at or after `at` in which every window in `windows` is open (its start
    is `at` itself when they all are open now); None when they do not all open together within
    `horizon`. No windows: always open."""
    at = at.astimezone(UTC)
    if not windows:
        return Span(at, ALWAYS_OPEN_END)
    until = at + horizon
    streams = [openings(w, at) for w in windows]
    current: list[Span | None] = [next(s, None) for s in streams]
    moment = at
    while True:
        spans: list[Span] = []
        for index, stream in enumerate(streams):
            span = current[index]
            while span is not None and span.end <= moment:
                span = next(stream, None)
            current[index] = span
            if span is None or span.start >= until:
                return None
            spans.append(span)
        latest_start = max(s.start for s in spans)
        if latest_start <= moment:
            return Span(moment, min(s.end for s in spans))
        moment = latest_start


def is_open(windows: Sequence[MaintenanceWindow], at: datetime) -> bool:
    """Whether a cluster under `windows` may be written at `at`."""
    at = at.astimezone(UTC)
    for window in windows:
        span = next(openings(window, at), None)
        if span is None or span.start > at:
            return False
    return True


def applicable(
    windows: Iterable[MaintenanceWindow], wave_windows: Sequence[str], tags: Mapping[str, str]
) -> list[MaintenanceWindow]:
    """The windows that bind a cluster with `tags` in a wave naming `wave_windows`: the wave's,
    and each window whose `clusters` selector the tags match (tag names compared
    case-insensitively, as Azure does; values exactly)."""
    named = set(wave_windows)
    lowered = {key.lower(): value for key, value in tags.items()}
    return [w for w in windows if w.name in named or _selects(w, tags, lowered)]


def _selects(
    window: MaintenanceWindow, tags: Mapping[str, str], lowered: Mapping[str, str]
) -> bool:
    if window.clusters is None:
        return False
    for key, wanted in window.clusters.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        value = tags[key] if key in tags else lowered.get(key.lower())
        if value not in allowed:
            return False
    return True


class WriteGate:
    """Which clusters may be written at `now`, each named by the windows that bind it (names
    of `windows`, the rollout's spec); an operator's override opens every gate. The span of
    each set of names is worked out once."""

    def __init__(
        self, windows: Sequence[MaintenanceWindow], now: datetime, *, overridden: bool = False
    ) -> None:
        self.windows = {w.name: w for w in windows}
        self.now = now.astimezone(UTC)
        self.overridden = overridden
        self._spans: dict[frozenset[str], Span | None] = {}

    def span(self, names: Iterable[str]) -> Span | None:
        """The first stretch from now in which every window named is open; None: never
        within the horizon."""
        key = frozenset(n for n in names if n in self.windows)
        if key not in self._spans:
            self._spans[key] = open_span([self.windows[n] for n in sorted(key)], self.now)
        return self._spans[key]

    def allows(self, names: Iterable[str]) -> bool:
        """Whether a cluster bound by `names` may be written now."""
        if self.overridden:
            return True
        span = self.span(names)
        return span is not None and span.start <= self.now

    def opening(self, names: Iterable[str]) -> datetime | None:
        """When a cluster bound by `names` may next be written (now, when it may now)."""
        if self.overridden:
            return self.now
        span = self.span(names)
        return span.start if span is not None else None

    def closes(self, names: Iterable[str]) -> datetime | None:
        """The deadline of a write, now, to a cluster bound by `names`: when the opening it is
        in closes. An opening longer than `MERGE_LIMIT` is followed piece by piece until the
        deadline is that far ahead (no write waits so long). None: no deadline (no window
        binds it, or they are overridden); `now` when it may not be written now."""
        if self.overridden:
            return None
        span = self.span(names)
        if span is None or span.start > self.now:
            return self.now
        if span.end == ALWAYS_OPEN_END:
            return None
        windows = [self.windows[n] for n in sorted(set(names)) if n in self.windows]
        end = span.end
        for _ in range(_PIECES):
            if end - self.now >= MERGE_LIMIT:
                break
            following = open_span(windows, end)
            if following is None or following.start > end:
                break
            end = following.end
        return end


def bound_windows(spec: TrackSpec, fleet: Iterable[Cluster]) -> dict[str, list[str]]:
    """Cluster id → the names of the windows that bind it under `spec`: those of the wave the
    plan puts it in, and those whose selector matches its tags. A cluster keeps its wave's
    windows in a catch-up or a fast rollback too: give this the track's own spec. Empty when
    the spec declares no window."""
    if not spec.maintenance_windows:
        return {}
    clusters = list(fleet)
    home = {p.id: wave for wave in plan_rollout(spec, clusters).waves for p in wave.clusters}
    named = {w.name: w.windows for w in spec.waves}
    return {
        c.id: [
            w.name
            for w in applicable(
                spec.maintenance_windows,
                named[home[c.id].name] if c.id in home else [],
                c.tags,
            )
        ]
        for c in clusters
    }


def never_open(
    windows: Sequence[MaintenanceWindow], bound: Iterable[Sequence[str]], at: datetime
) -> list[list[str]]:
    """The sets of window names (as given in `bound`, one per cluster) whose windows do not
    open together within the horizon from `at`, each once, sorted."""
    gate = WriteGate(windows, at)
    sets = {tuple(sorted(names)) for names in bound if names}
    return [list(names) for names in sorted(sets) if gate.span(names) is None]


def describe(span: Span | None, now: datetime) -> str:
    """'opens 2026-12-06 02:00 UTC (in 3h 10m)', 'open until …', or that it never opens."""
    if span is None:
        return f"no opening within {HORIZON.days} days"
    if span.start <= now:
        if span.end == ALWAYS_OPEN_END:
            return "open (no window applies)"
        return f"open until {_clock(span.end)}"
    return f"opens {_clock(span.start)} (in {_wait(span.start - now)})"


def describe_opening(at: datetime | None, now: datetime) -> str:
    """'next opening 2026-12-06 02:00 UTC (in 3h 10m)', or that there is none."""
    if at is None:
        return f"no opening within {HORIZON.days} days"
    if at <= now:
        return f"next opening {_clock(at)} (now)"
    return f"next opening {_clock(at)} (in {_wait(at - now)})"


def _clock(at: datetime) -> str:
    """`2026-12-06 02:00 UTC`, with seconds when the time has them."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC" if at.second else "%Y-%m-%d %H:%M UTC")


def _wait(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(1, seconds)}s"
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p) or "1m"
