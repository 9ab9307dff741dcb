"""The limits a simulated rollout runs against, shared by all its waves (`shared.eta`).

Time is integer microseconds from the simulation's `as_of`: a write never lands a rounding
error outside its window. Buckets refill continuously and hand tokens out in the order they
are asked for, like the gateway's `shared.ratelimit.TokenBucket`.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.eta_model import Write, WriteBudget
from shared.maintenance import ALWAYS_OPEN_END, open_span
from shared.trackspec.windows import MaintenanceWindow

US = timedelta(microseconds=1)
NEVER = math.inf
TOKEN_EPSILON = 1e-9
"""Tokens are floats: a bucket holding 1 - 1e-9 tokens has one (float error, not a real gap)."""


@dataclass
class Bucket:
    """A subscription's write bucket as the simulation spends it (times in microseconds)."""

    burst: int
    rate: float
    tokens: float
    at: int = 0

    def next_token(self, t: int) -> int:
        """The earliest time at or after `t` (and after the last take) a token is there."""
        base = max(t, self.at)
        tokens = min(self.burst, self.tokens + (base - self.at) * self.rate / 1e6)
        if tokens >= 1 - TOKEN_EPSILON:
            return base
        return base + math.ceil((1 - tokens) * 1e6 / self.rate)

    def take(self, at: int) -> None:
        tokens = min(self.burst, self.tokens + (at - self.at) * self.rate / 1e6)
        self.tokens = max(tokens - 1, 0.0)
        self.at = at


class Limits:
    """What every wave of one simulation shares: its clock (microseconds from `as_of`), the
    write buckets per subscription, the maintenance windows' openings, the trace."""

    def __init__(self, budget: WriteBudget, as_of: datetime, trace: list[Write] | None) -> None:
        self.budget = budget
        self.as_of = as_of
        self.trace = trace
        self.buckets: dict[str, Bucket] = {}
        self.spans: dict[tuple[str, ...], tuple[int, tuple[int, float] | None]] = {}

    def time(self, us: float) -> datetime | None:
        return None if us == NEVER else self.as_of + timedelta(microseconds=int(us))

    def us(self, at: datetime) -> int:
        return (at - self.as_of) // US

    def bucket(self, subscription: str) -> Bucket:
        key = subscription.lower()
        found = self.buckets.get(key)
        if found is None:
            found = self.buckets[key] = Bucket(
                self.budget.burst, self.budget.per_second, float(self.budget.burst)
            )
        return found

    def span(self, windows: tuple[MaintenanceWindow, ...], t: int) -> tuple[int, float] | None:
        """The open stretch [start, end) holding `t`, else the next one; None: never opens.
        Cached per set of windows while `t` stays before the stretch's end."""
        if not windows:
            return (t, NEVER)
        key = tuple(sorted(w.name for w in windows))
        if key in self.spans:
            since, cached = self.spans[key]
            if since <= t and (cached is None or t < cached[1]):
                return cached
        found = self.opening(windows, t)
        self.spans[key] = (t, found)
        return found

    def opening(self, windows: tuple[MaintenanceWindow, ...], t: int) -> tuple[int, float] | None:
        found = open_span(windows, self.as_of + timedelta(microseconds=t))
        if found is None:
            return None
        end = NEVER if found.end == ALWAYS_OPEN_END else self.us(found.end)
        return (self.us(found.start), end)
