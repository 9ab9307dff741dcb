"""Maintenance windows as a track spec names them: when clusters may be written.

A window opens on a cron schedule (five fields, minute to weekday, read in its IANA time zone)
or once, at a local date and time, and stays open for its duration (elapsed time, so a window
that spans a daylight saving change is as long as it says). A wave names the windows its
clusters must be written in; a window with a `clusters` selector applies to every matching
cluster, in whichever wave it lands. The time logic is `shared.maintenance`'s.
"""

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from pydantic import Field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.trackspec.rules import (
    DNS_LABEL,
    PositiveDuration,
    check_tag_map,
    error,
    name_rule,
    raise_if,
)
from shared.wire import WireModel

WindowName = Annotated[str, name_rule(DNS_LABEL, 63, "window name")]
"""Window names follow the rules of wave names (a DNS label)."""
CRON_HINT = (
    "write five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * 1-5' for 02:00 "
    "on weekdays"
)


class MaintenanceWindow(WireModel):
    """A recurring (`schedule`) or one-off (`start`) span of time in which writes may happen."""

    name: WindowName
    schedule: str | None = None
    """Five-field cron expression for when the window opens, in `timeZone`."""
    start: datetime | None = None
    """A one-off opening: a local date and time in `timeZone` (or with its own UTC offset)."""
    duration: PositiveDuration
    """How long the window stays open after each opening."""
    time_zone: str = "UTC"
    """IANA time zone the schedule and start are read in, e.g. Europe/Berlin."""
    clusters: dict[str, str | list[str]] | None = Field(default=None)
    """Tag equality (a list means any of): the window applies to every matching cluster."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        fields = value.split()
        if len(fields) != 5 or not croniter.is_valid(value):
            raise PydanticCustomError(
                "cron",
                "'{value}' is not a cron schedule: {hint}",
                {"value": value, "hint": CRON_HINT},
            )
        try:
            croniter(" ".join(fields), datetime(2000, 1, 1)).get_next(datetime)
        except CroniterBadDateError:
            raise PydanticCustomError(
                "cron",
                "'{value}' never fires (no such date, like 30 February): check day-of-month "
                "and month",
                {"value": value},
            ) from None
        return " ".join(fields)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "time_zone",
                "'{value}' is not an IANA time zone: use a name like UTC, Europe/Berlin or "
                "America/New_York",
                {"value": value},
            ) from None
        return value

    @field_validator("clusters", mode="before")
    @classmethod
    def _selector(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value:
            raise PydanticCustomError(
                "selector",
                "an empty selector matches nothing; omit it and name the window in waves instead",
            )
        return check_tag_map(value)

    @model_validator(mode="after")
    def _one_way_to_open(self) -> "MaintenanceWindow":
        if (self.schedule is None) == (self.start is None):
            raise_if(
                [
                    error(
                        "window_opening",
                        ("schedule",),
                        self.schedule,
                        "give either schedule (a cron expression, for a recurring window) or "
                        "start (a date and time, for a one-off window), not both and not neither",
                    )
                ],
                "MaintenanceWindow",
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def window_problems(
    windows: list[MaintenanceWindow], wave_windows: list[tuple[str, list[str]]]
) -> list[InitErrorDetails]:
    """Duplicate window names, and windows a wave names that the spec does not declare
    (`wave_windows`: each wave's name and the windows it names, in spec order)."""
    problems: list[InitErrorDetails] = []
    first_seen: dict[str, int] = {}
    for index, window in enumerate(windows):
        if window.name in first_seen:
            problems.append(
                error(
                    "duplicate",
                    ("maintenanceWindows", index, "name"),
                    window.name,
                    f"window name '{window.name}' is already used by "
                    f"maintenanceWindows[{first_seen[window.name]}]",
                )
            )
        first_seen.setdefault(window.name, index)
    declared = ", ".join(sorted(first_seen)) or "none"
    for wave_index, (wave, names) in enumerate(wave_windows):
        seen: set[str] = set()
        for index, name in enumerate(names):
            loc = ("waves", wave_index, "windows", index)
            if name not in first_seen:
                problems.append(
                    error(
                        "unknown_window",
                        loc,
                        name,
                        f"wave '{wave}' names window '{name}', which maintenanceWindows does "
                        f"not declare (declared: {declared})",
                    )
                )
            elif name in seen:
                problems.append(
                    error("duplicate", loc, name, f"wave '{wave}' names window '{name}' twice")
                )
            seen.add(name)
    return problems
