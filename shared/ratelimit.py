"""A token bucket per subscription, sized like ARM's own write bucket (200 burst, 10/s).

ARM throttles writes per subscription with a token bucket; a wave of hundreds of clusters sent
as fast as threads allow would drain it and bring a storm of 429s. Taking a token before each
write keeps arcwave under the limit, and a 429 that still comes (another writer shares the
subscription) pauses the bucket for its `Retry-After`. A write with a deadline (the close of
its cluster's maintenance windows) that is past once its token comes is not sent, and the token
goes back (`take_turn`).

The clock and sleep are injectable so tests run without waiting. One process shares one bucket
per subscription (`BucketRegistry`); several processes each keep their own, so the budget
should be split between them (documented in docs/operations.md).
"""

import threading
import time
from collections.abc import Callable
from datetime import datetime


class TokenBucket:
    """Thread-safe: `take()` blocks until a token is free."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, waiting as long as needed; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if now >= self._paused_until and self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                delay = max(self._paused_until - now, (1 - self._tokens) / self.rate, 0.001)
            self._sleep(delay)
            waited += delay

    def give_back(self) -> None:
        """Return a token taken for a write that was then not sent (its deadline passed while
        it waited), so the next write need not wait for it; never above the burst."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(float(self.burst), self._tokens + 1)

    def pause(self, seconds: float) -> None:
        """Stop handing out tokens for `seconds` (ARM said Retry-After) and empty the bucket."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
            self._tokens = 0.0
            self._updated = now

    @property
    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def _refill(self, now: float) -> None:
        # Tokens accrue only for time after the last update and after any pause.
        start = max(self._updated, self._paused_until)
        if now > start:
            self._tokens = min(self.burst, self._tokens + (now - start) * self.rate)
        self._updated = max(self._updated, now)


def take_turn(
    bucket: TokenBucket, deadline: datetime | None, now: Callable[[], datetime]
) -> tuple[float, bool]:
    """Take a token for one attempt of a write due by `deadline` (None: no deadline): the
    seconds waited, and whether the attempt may be sent. It may not once `now()` (a wall
    clock: deadlines are wall-clock times) has reached the deadline, before the wait for the
    token or after it; a token taken then is given back."""
    if deadline is not None and now() >= deadline:
        return 0.0, False
    waited = bucket.take()
    if deadline is not None and now() >= deadline:
        bucket.give_back()
        return waited, False
    return waited, True


class BucketRegistry:
    """One bucket per key (subscription id), made by `new_bucket` on first use."""

    def __init__(self, new_bucket: Callable[[], TokenBucket]) -> None:
        self._new_bucket = new_bucket
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(key.lower())
            if bucket is None:
                bucket = self._buckets[key.lower()] = self._new_bucket()
            return bucket


class QuotaPacer:
    """Paces Resource Graph queries on the per-user quota its answers report.

    Every answer carries `x-ms-user-quota-remaining` (queries left in the window) and
    `x-ms-user-quota-resets-after`; when none are left, the next query waits for the window to
    reset instead of drawing a 429. A 429 that still comes (another client shares the quota)
    holds every query for its Retry-After. Thread-safe; the clock and sleep are injectable.
    """

    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._remaining: int | None = None
        self._resets_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until a query may go; the seconds waited."""
        with self._lock:
            now = self._clock()
            if now >= self._resets_at:
                self._remaining = None  # a new window: nothing known about it yet
            delay = (
                self._resets_at - now
                if self._remaining is not None and self._remaining <= 0
                else 0.0
            )
            if delay == 0.0 and self._remaining is not None:
                self._remaining -= 1  # spoken for until an answer says otherwise
        if delay > 0:
            self._sleep(delay)
        return delay

    def update(self, remaining: str | None, resets_after: float) -> None:
        """Record what an answer said."""
        if remaining is None:
            return
        try:
            left = int(remaining.strip())
        except ValueError:
            return
        with self._lock:
            self._remaining = left
            self._resets_at = self._clock() + resets_after

    def exhausted(self, retry_after: float) -> None:
        """A 429: no query until `retry_after` has passed."""
        with self._lock:
            self._remaining = 0
            self._resets_at = max(self._resets_at, self._clock() + retry_after)


def hms_seconds(text: str) -> float:
    """Resource Graph's `x-ms-user-quota-resets-after` (`hh:mm:ss`) in seconds (1 when it
    cannot be read)."""
    try:
        hours, minutes, seconds = (float(p) for p in text.split(":"))
    except ValueError:
        return 1.0
    return max(hours * 3600 + minutes * 60 + seconds, 0.0)
