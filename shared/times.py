"""Time as arcwave keeps it: timezone-aware UTC, written in one fixed-width format.

Times are always written with microseconds (`2026-11-26T12:00:00.000000Z`), so sorting the
text sorts the times, in SQLite and in Cosmos alike.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

Clock = Callable[[], datetime]
"""Where records take "now" from; tests pass a fixed or stepping clock."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time must carry its timezone (arcwave stores UTC)")
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """`2026-11-26T12:00:00.000000Z`: fixed width, so text order is time order. (Not
    `strftime("%Y")`, which writes the year 1 as `1`, a time nothing reads back.)"""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


UtcTime = Annotated[
    datetime,
    AfterValidator(_aware_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]
"""A timezone-aware time, kept in UTC and written in one fixed-width format."""
