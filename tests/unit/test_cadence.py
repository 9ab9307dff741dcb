"""The cadence of a wave near its end (`shared.cadence`): when it looks again after its last
write, with and without an expected reconcile time."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from shared.cadence import MIN_LOOK_SECONDS, next_look_in

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def looks(expected: timedelta | None, poll: float, start: float = 0.0) -> list[float]:
    """The seconds after the last write at which a wave looks, from a look at `start`, while
    the hint comes sooner than the poll (as the orchestrator takes it)."""
    at, seen = start, []
    while True:
        hint = next_look_in(T0, expected, T0 + timedelta(seconds=at))
        if hint >= poll:
            return seen
        at += hint
        seen.append(round(at, 3))


def test_without_an_expected_time_the_looks_double_from_the_write() -> None:
    assert looks(None, poll=10) == [0.25, 0.5, 1, 2, 4, 8, 16]


def test_with_an_expected_time_the_first_look_is_then_and_the_looks_double_after() -> None:
    assert looks(timedelta(seconds=30), poll=10, start=25) == [30, 30.25, 30.5, 31, 32, 34, 38, 46]


def test_a_look_long_before_the_expected_time_waits_for_the_poll() -> None:
    assert next_look_in(T0, timedelta(minutes=2), T0) == 120
    assert looks(timedelta(minutes=2), poll=10) == []


@pytest.mark.parametrize("poll", [0.2, 1, 10, 60, 3600])
def test_the_looks_before_the_poll_are_few_and_never_closer_than_the_minimum(poll: float) -> None:
    seen = looks(None, poll)
    gaps = [b - a for a, b in zip([0.0, *seen], seen, strict=False)]
    assert all(gap >= MIN_LOOK_SECONDS for gap in gaps)
    # log2(poll / 0.25 s) doublings, and the one that reaches past the poll from its last look
    assert len(seen) <= max(0, math.floor(math.log2(poll / MIN_LOOK_SECONDS)) + 2)


def test_a_cluster_already_late_by_a_poll_gets_no_early_look() -> None:
    assert next_look_in(T0, None, T0 + timedelta(seconds=15)) == 15
