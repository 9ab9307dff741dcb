"""Timer schedules: 6-field NCRONTAB with seconds first, TimeSpan, app-setting references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devhost.config import ConfigError
from devhost.timers import Schedule

T0 = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*/5 * * * * *", T0 + timedelta(seconds=5)),
        ("0 */5 * * * *", T0 + timedelta(minutes=5)),
        ("30 15 9 * * *", T0 + timedelta(hours=9, minutes=15, seconds=30)),
        ("0 30 9 * * 1-5", T0 + timedelta(hours=9, minutes=30)),
        ("00:00:10", T0 + timedelta(seconds=10)),
        ("01:00:00", T0 + timedelta(hours=1)),
        ("1.00:00:00", T0 + timedelta(days=1)),
    ],
)
def test_next_occurrence(text: str, expected: datetime) -> None:
    assert Schedule.parse(text).next_after(T0) == expected


def test_schedule_from_app_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_UNIT_SCHEDULE", "0 0 * * * *")
    assert Schedule.parse("%DEVHOST_UNIT_SCHEDULE%").next_after(T0) == T0 + timedelta(hours=1)


@pytest.mark.parametrize("text", ["*/5 * * * *", "61 * * * * *", "00:00:00", "nonsense"])
def test_invalid_schedules_are_rejected(text: str) -> None:
    with pytest.raises(ConfigError):
        Schedule.parse(text)
