from datetime import timedelta

import pytest

from shared.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("2d", timedelta(days=2)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        ("PT10M", timedelta(minutes=10)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1D", timedelta(days=1)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("pt45s", timedelta(seconds=45)),
        (" 10m ", timedelta(minutes=10)),
    ],
)
def test_accepts_compact_and_iso_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10", "has no unit"),
        (600, "has no unit"),
        (1.5, "has no unit"),
        ("", "empty"),
        ("-5s", "negative"),
        ("10x", "not a duration"),
        ("ten minutes", "not a duration"),
        ("P1M", "years or months"),
        ("P1Y", "years or months"),
        ("P1MT1H", "years or months"),
        ("P", "not an ISO 8601 duration"),
        ("PT", "not an ISO 8601 duration"),
        ("P1DT", "not an ISO 8601 duration"),
        (None, "expected a duration string"),
        (True, "has no unit"),
    ],
)
def test_refuses_ambiguous_or_malformed_values(value: object, fragment: str) -> None:
    with pytest.raises(DurationError, match=fragment):
        parse_duration(value)


def test_iso_minutes_after_t_are_minutes_not_months() -> None:
    assert parse_duration("PT1M") == timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=1), "24h"),
        (timedelta(milliseconds=1500), "1s500ms"),
    ],
)
def test_formats_compactly_and_round_trips(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value
