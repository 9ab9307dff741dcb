"""A token bucket per subscription, sized like ARM's own write bucket (200 burst, 10/s).

ARM throttles writes per subscription with a token bucket; a wave of hundreds of clusters sent
as fast as threads allow would drain it and bring a storm of 429s. Taking a token before each
write keeps arcwave under the limit, and a 429 that still comes (another writer shares the
subscription) pauses the bucket for its `Retry-After`. A write with a deadline (the close of
its cluster's maintenance windows) that is past once its token comes is not sent, and the token
goes back (`take_turn`).

The bucket starts full, as ARM's does when nothing better is known, and follows what ARM says
is left: every answer to a write carries `x-ms-ratelimit-remaining-subscription-writes`
(`-deletes` for a DELETE), and a count lower than the bucket's own lowers it (`learn`), so a
second writer draining the same subscription slows arcwave down before ARM answers 429.

The clock and sleep are injectable so tests run without waiting. One process shares one bucket
per subscription and operation type (`BucketRegistry`); several processes each keep their own
and learn the others' writes from ARM's answers (docs/fleet.md).
"""

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

ANSWERS_KEPT = 1024
"""How many of the latest answered tickets a bucket remembers: far more than are ever in
flight at once."""


class Ticket(NamedTuple):
    """Which token a write took: the bucket's count of tokens handed out once it had it, when
    (the bucket's clock), how many tokens it left and whether the bucket was full before it.
    `learn` reads ARM's answer against it."""

    number: int
    at: float
    left: float
    first: bool


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
        self._handed = 0
        self._answered: deque[int] = deque(maxlen=ANSWERS_KEPT)
        """The tickets whose answers `learn` read, the latest of them."""
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, waiting as long as needed; return the seconds waited."""
        return self.take_ticket()[0]

    def take_ticket(self) -> tuple[float, Ticket]:
        """Take one token, waiting as long as needed: the seconds waited and its ticket."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if now >= self._paused_until and self._tokens >= 1:
                    first = self._tokens >= self.burst
                    self._tokens -= 1
                    self._handed += 1
                    return waited, Ticket(self._handed, now, self._tokens, first)
                delay = max(self._paused_until - now, (1 - self._tokens) / self.rate, 0.001)
            self._sleep(delay)
            waited += delay

    def give_back(self) -> None:
        """Return a token taken for a write that was then not sent (its deadline passed while
        it waited), so the next write need not wait for it; never above the burst."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(float(self.burst), self._tokens + 1)

    def learn(self, remaining: int, ticket: Ticket) -> None:
        """ARM answered the write that took `ticket` with `remaining` whole tokens left in its
        own bucket. The bucket then held more than ARM only if it had more *whole* tokens
        left than that: what arcwave may still send is at most `remaining` plus the fraction
        of a token the bucket had then (ARM's own fraction is rounded away), plus what ARM
        refilled since the token was taken, minus the tokens handed out after it whose answers
        have not come yet (writes ARM may not have counted). Above that, the bucket is lowered
        to it (below zero when writes already sent overdraw ARM's bucket: the next token then
        waits until they are covered). A higher count never raises it: another writer may
        have spent the difference since. A lone writer's bucket never holds more than ARM's,
        so its answers change nothing.

        Writes sent side by side reach ARM in any order, and a later write whose answer has
        already come was, most likely, counted before this one: subtracting it too would
        count it twice and lower the bucket below ARM's for good (5-10% of the throughput at
        fleet scale, measured). Not subtracting it is safe: if ARM counted it after this
        one, its own answer, already learned, counted this one.

        One exception to the refill: a write that took the first token of a full bucket
        started the bucket's refill at once, but ARM's only when ARM admitted it, a round
        trip (a new connection's, often) later. Its answer counts no refill since the take,
        which moves the bucket's refill back in line with ARM's; else the bucket would hand
        out each token that much before ARM has it, and the first writes past the burst
        would draw 429s."""
        with self._lock:
            answered_after = sum(1 for n in self._answered if n > ticket.number)
            self._answered.append(ticket.number)
            now = self._clock()
            self._refill(now)
            refilled = 0.0 if ticket.first else max(now - ticket.at, 0.0) * self.rate
            ceiling = (
                max(remaining, 0)
                + (ticket.left - math.floor(ticket.left))
                + refilled
                - (self._handed - ticket.number - answered_after)
            )
            if self._tokens > ceiling:
                self._tokens = max(ceiling, -float(self.burst))

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


class Turn(NamedTuple):
    """One attempt's turn: the seconds it waited, whether it may be sent, its token's ticket
    (None when it holds no token)."""

    waited: float
    allowed: bool
    ticket: Ticket | None


def take_turn(bucket: TokenBucket, deadline: datetime | None, now: Callable[[], datetime]) -> Turn:
    """Take a token for one attempt of a write due by `deadline` (None: no deadline): the
    seconds waited, and whether the attempt may be sent. It may not once `now()` (a wall
    clock: deadlines are wall-clock times) has reached the deadline, before the wait for the
    token or after it; a token taken then is given back."""
    if deadline is not None and now() >= deadline:
        return Turn(0.0, False, None)
    waited, ticket = bucket.take_ticket()
    if deadline is not None and now() >= deadline:
        bucket.give_back()
        return Turn(waited, False, None)
    return Turn(waited, True, ticket)


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
