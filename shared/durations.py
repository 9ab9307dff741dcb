"""Durations as operators write them: `90s`, `10m`, `1h30m`, `500ms`, `2d` or ISO 8601 (`PT10M`).

Bare numbers are refused: `600` could mean seconds or minutes, and a rollout policy should not
have to guess. ISO 8601 years and months are refused too, since they have no fixed length.
"""

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_COMPACT = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
_COMPACT_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

DURATION_HINT = "use a number with a unit (90s, 10m, 1h30m, 2d) or ISO 8601 (PT10M)"


class DurationError(ValueError):
    """A duration could not be read; the message says why and how to write one."""


def parse_duration(value: object) -> timedelta:
    """Read a duration from text (or pass a timedelta through).

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise DurationError("a duration cannot be negative")
        return value
    if isinstance(value, bool | int | float):
        raise DurationError(f"{value!r} has no unit; {DURATION_HINT}")
    if not isinstance(value, str):
        raise DurationError(f"expected a duration string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise DurationError(f"empty duration; {DURATION_HINT}")
    if text.startswith("-"):
        raise DurationError(f"'{text}' is negative; durations must be zero or more")
    if _NUMBER.fullmatch(text):
        raise DurationError(f"'{text}' has no unit; {DURATION_HINT}")
    if _COMPACT.fullmatch(text):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _COMPACT_PART.findall(text))
        return timedelta(seconds=seconds)
    upper = text.upper()
    if upper.startswith("P"):
        return _parse_iso(text, upper)
    raise DurationError(f"'{text}' is not a duration; {DURATION_HINT}")


def _parse_iso(text: str, upper: str) -> timedelta:
    date_part = upper.partition("T")[0]
    if "Y" in date_part or "M" in date_part:
        raise DurationError(
            f"'{text}' uses years or months, which have no fixed length; use days (P30D)"
        )
    match = _ISO.fullmatch(upper)
    if not match or upper in ("P", "PT") or upper.endswith("T"):
        raise DurationError(f"'{text}' is not an ISO 8601 duration; {DURATION_HINT}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return timedelta(
        weeks=parts.get("weeks", 0.0),
        days=parts.get("days", 0.0),
        hours=parts.get("hours", 0.0),
        minutes=parts.get("minutes", 0.0),
        seconds=parts.get("seconds", 0.0),
    )


def format_duration(value: timedelta) -> str:
    """The compact form arcwave writes back: `1h30m`, `45s`, `1m500ms`, `0s`."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms == 0:
        return "0s"
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    parts = [(hours, "h"), (minutes, "m"), (seconds, "s"), (millis, "ms")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)


def _validate(value: object) -> timedelta:
    try:
        return parse_duration(value)
    except DurationError as error:
        raise PydanticCustomError("duration", str(error)) from None


Duration = Annotated[
    timedelta,
    BeforeValidator(_validate),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "examples": ["90s", "10m", "1h30m", "PT10M"]}),
]
"""A pydantic field type: parsed with `parse_duration`, written back with `format_duration`."""
