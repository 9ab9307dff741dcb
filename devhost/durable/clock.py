"""The time the durable engine goes by: real time by default, virtual time for in-process tests.

Every durable reading of "now" (history timestamps, episode time, timer visibility, activity
completions, retry fire times) goes through one `Clock`, so a `VirtualClock` can make a
one-hour durable timer fire as soon as a test advances it. Durations measured only for logs,
performance or the back-off after a devhost bug stay on the real monotonic clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

#: Where a VirtualClock starts unless told otherwise: fixed, so test histories are reproducible.
DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """A source of the current time."""

    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def utcnow(self) -> datetime:
        """The current time as a timezone-aware UTC datetime."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """Real time. All instances are equal, so any two SystemClocks count as the same clock."""

    def time(self) -> float:
        return time.time()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """Time that moves only when told to, and never backwards. Safe to read from any thread."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time, e.g. tzinfo=UTC")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VirtualClock({self._now.isoformat()})"

    def time(self) -> float:
        return self._now.timestamp()

    def utcnow(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds` (>= 0); returns the new time."""
        if seconds < 0:
            raise ValueError(f"a VirtualClock never goes backwards (advance({seconds}))")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def advance_to(self, when: datetime | float) -> datetime:
        """Move forward to `when` (an aware datetime or epoch seconds); earlier times are a no-op.

        An epoch target is rounded up to the next microsecond if needed, so afterwards
        `time() >= when` holds and a message visible at `when` is due.
        """
        if isinstance(when, datetime):
            if when.tzinfo is None:
                raise ValueError("advance_to needs a timezone-aware datetime, e.g. tzinfo=UTC")
            target = when.astimezone(UTC)
        else:
            target = datetime.fromtimestamp(when, UTC)
            if target.timestamp() < when:
                target += timedelta(microseconds=1)
        with self._lock:
            self._now = max(self._now, target)
            return self._now
