"""ARM throttling as token buckets per subscription and operation type, plus ARG's user quota.

ARM refills each bucket continuously; a request takes one token or gets 429 with
``Retry-After`` set to the time until the next token. Remaining tokens are reported in the
``x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`` headers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from emulator.exceptions import THROTTLED_MSG, TooManyRequests
from emulator.scenario import Bucket, ResourceGraphQuota, ThrottleSpec

OperationType = Literal["reads", "writes", "deletes"]
RG_THROTTLED_MSG = (
    "Please provide below info when asking for support: timestamp = {time}. "
    "Client application has been throttled and should not attempt to repeat the request until "
    "an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."
)
Clock = Callable[[], float]


def operation_type(method: str) -> OperationType:
    if method == "DELETE":
        return "deletes"
    if method in {"GET", "HEAD"}:
        return "reads"
    return "writes"


@dataclass
class TokenBucket:
    size: int
    refill_per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> tuple[bool, float]:
        """Take one token; returns (allowed, seconds until a token is available)."""
        self.tokens = min(self.size, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, 0.0
        return False, (1 - self.tokens) / self.refill_per_second

    @property
    def remaining(self) -> int:
        return int(self.tokens)


@dataclass
class ArmThrottle:
    """One bucket per (subscription, operation type)."""

    spec: ThrottleSpec
    clock: Clock = time.monotonic
    buckets: dict[tuple[str, OperationType], TokenBucket] = field(default_factory=dict)

    def _bucket(self, subscription: str, kind: OperationType) -> TokenBucket:
        key = (subscription.lower(), kind)
        bucket = self.buckets.get(key)
        if bucket is None:
            limits: Bucket = getattr(self.spec, kind)
            bucket = TokenBucket(
                limits.bucket, limits.refill_per_second, float(limits.bucket), self.clock()
            )
            self.buckets[key] = bucket
        return bucket

    def admit(self, subscription: str, method: str) -> dict[str, str]:
        """Headers for an admitted request; raises TooManyRequests when the bucket is empty."""
        kind = operation_type(method)
        bucket = self._bucket(subscription, kind)
        allowed, wait = bucket.take(self.clock())
        header = f"x-ms-ratelimit-remaining-subscription-{kind}"
        headers = {header: str(bucket.remaining)}
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
            raise TooManyRequests(THROTTLED_MSG.format(operation=kind), headers=headers)
        return headers


UNLIMITED_QUERIES = 15
UNLIMITED_WINDOW_SECONDS = 5.0
"""Without a configured quota every answer reports a fresh window of ARG's documented example
(15 queries per 5 s) with one query used: 14 remaining, never 429."""


@dataclass
class GraphQuota:
    """ARG's per-user window: N queries per window, reported on every response.

    With ``spec`` None nothing is limited and every answer reports the generous window
    above; with a spec the remaining count falls with each query and an exhausted window
    answers 429 until it resets."""

    spec: ResourceGraphQuota | None
    clock: Clock = time.monotonic
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def admit(self, user: str) -> tuple[bool, dict[str, str]]:
        """Count one query of ``user``; (allowed, the quota headers of the answer)."""
        if self.spec is None:
            return True, _quota_headers(UNLIMITED_QUERIES - 1, UNLIMITED_WINDOW_SECONDS)
        queries, window = self.spec.queries, self.spec.window_seconds
        start, used, now = self._window(user)
        allowed = used < queries
        if allowed:
            used += 1
        self.windows[user] = (start, used)
        resets = max(0.0, window - (now - start))
        headers = _quota_headers(queries - used, resets)
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(resets)))
        return allowed, headers

    def peek(self, user: str) -> dict[str, str]:
        """The quota headers for an answer that did not reach the query (e.g. a 401)."""
        if self.spec is None:
            return _quota_headers(UNLIMITED_QUERIES, UNLIMITED_WINDOW_SECONDS)
        start, used, now = self._window(user)
        resets = max(0.0, self.spec.window_seconds - (now - start))
        return _quota_headers(self.spec.queries - used, resets)

    def _window(self, user: str) -> tuple[float, int, float]:
        assert self.spec is not None
        now = self.clock()
        start, used = self.windows.get(user, (now, 0))
        if now - start >= self.spec.window_seconds:
            start, used = now, 0
        return start, used, now


def _quota_headers(remaining: int, resets: float) -> dict[str, str]:
    return {
        "x-ms-user-quota-remaining": str(max(0, remaining)),
        "x-ms-user-quota-resets-after": _hhmmss(resets),
    }


def _hhmmss(seconds: float) -> str:
    whole = math.ceil(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
