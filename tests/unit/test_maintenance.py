"""Maintenance windows: openings of cron and one-off windows in their own time zones (daylight
saving changes in Europe/Berlin and America/New_York included), intersections, selectors, the
write gate, and the track spec fields that declare them."""

import bisect
import itertools
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.cluster import Cluster
from shared.maintenance import (
    HORIZON,
    Span,
    WriteGate,
    applicable,
    bound_windows,
    describe,
    describe_opening,
    is_open,
    never_open,
    open_span,
    openings,
)
from shared.problems import InvalidInput
from shared.trackspec import TrackSpec, validate_track_spec
from shared.trackspec.windows import MaintenanceWindow

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SUB = "00000000-0000-0000-0000-000000000001"


def window(name: str = "w", **fields: Any) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate({"name": name, **fields})


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def starts(w: MaintenanceWindow, after: datetime, count: int) -> list[datetime]:
    return [s.start for s in islice(openings(w, after), count)]


# -- cron in a time zone ------------------------------------------------------------------


def test_a_schedule_is_read_in_its_own_zone_winter_and_summer() -> None:
    weekdays = window(schedule="0 2 * * 1-5", duration="1h", timeZone="Europe/Berlin")
    # 2025-01-03 is a Friday: 02:00 CET is 01:00 UTC; then Monday.
    assert starts(weekdays, utc(2025, 1, 2, 12), 2) == [utc(2025, 1, 3, 1), utc(2025, 1, 6, 1)]
    # In summer 02:00 CEST is 00:00 UTC.
    assert starts(weekdays, utc(2025, 7, 1, 12), 1) == [utc(2025, 7, 2, 0)]


def test_berlin_spring_forward_opens_when_the_clocks_jump_and_stays_open_its_duration() -> None:
    nightly = window(schedule="30 2 * * *", duration="1h", timeZone="Europe/Berlin")
    spans = list(islice(openings(nightly, utc(2025, 3, 28, 12)), 3))
    # 02:30 CET; 2025-03-30 has no 02:30 (02:00 → 03:00): it opens at 03:00 CEST; then CEST.
    assert [s.start for s in spans] == [
        utc(2025, 3, 29, 1, 30),
        utc(2025, 3, 30, 1),
        utc(2025, 3, 31, 0, 30),
    ]
    assert all(s.end - s.start == timedelta(hours=1) for s in spans)
    assert spans[1].start.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"


def test_berlin_fall_back_opens_a_fixed_time_once_and_a_wildcard_hour_at_both() -> None:
    nightly = window(schedule="30 2 * * *", duration="20m", timeZone="Europe/Berlin")
    # 02:30 happens twice on 2025-10-26 (CEST, then CET): the window opens at the first.
    assert starts(nightly, utc(2025, 10, 25, 12), 2) == [
        utc(2025, 10, 26, 0, 30),
        utc(2025, 10, 27, 1, 30),
    ]
    half_hourly = window(schedule="*/30 * * * *", duration="10m", timeZone="Europe/Berlin")
    got = starts(half_hourly, utc(2025, 10, 25, 23, 50), 6)
    assert got == [utc(2025, 10, 26, 0) + timedelta(minutes=30 * i) for i in range(6)]


def test_new_york_changes_are_handled_the_same_way() -> None:
    nightly = window(schedule="30 2 * * *", duration="1h", timeZone="America/New_York")
    # 2025-03-09: 02:00 EST → 03:00 EDT; 02:30 does not exist, the window opens at 03:00 EDT.
    assert starts(nightly, utc(2025, 3, 8, 12), 3) == [
        utc(2025, 3, 9, 7),
        utc(2025, 3, 10, 6, 30),
        utc(2025, 3, 11, 6, 30),
    ]
    early = window(schedule="30 1 * * *", duration="15m", timeZone="America/New_York")
    # 2025-11-02: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST): once, the first.
    assert starts(early, utc(2025, 11, 1, 12), 2) == [
        utc(2025, 11, 2, 5, 30),
        utc(2025, 11, 3, 6, 30),
    ]


def test_a_window_lasts_its_duration_in_elapsed_time_across_a_change() -> None:
    midnight = window(schedule="0 0 * * *", duration="4h", timeZone="America/New_York")
    span = next(openings(midnight, utc(2025, 11, 2, 3)))
    assert span == Span(utc(2025, 11, 2, 4), utc(2025, 11, 2, 8))
    # Four hours later by the clock on the wall is 03:00 EST: the clocks went back meanwhile.
    assert span.end.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:00 EST"


# -- one-off windows ----------------------------------------------------------------------


def test_a_one_off_window_is_read_in_its_zone_or_by_its_own_offset() -> None:
    local = window(start="2026-12-06T02:00:00", duration="2h", timeZone="Europe/Berlin")
    assert list(openings(local, utc(2026, 12, 1))) == [
        Span(utc(2026, 12, 6, 1), utc(2026, 12, 6, 3))
    ]
    offset = window(start="2026-12-06T02:00:00-05:00", duration="2h", timeZone="Europe/Berlin")
    assert next(openings(offset, utc(2026, 12, 1))).start == utc(2026, 12, 6, 7)
    in_gap = window(start="2025-03-30T02:30:00", duration="1h", timeZone="Europe/Berlin")
    assert next(openings(in_gap, utc(2025, 3, 1))).start == utc(2025, 3, 30, 1)


def test_a_one_off_window_that_is_over_never_opens_again() -> None:
    once = window(start="2026-12-06T02:00:00", duration="1h")
    assert open_span([once], utc(2026, 12, 6, 2, 30)) == Span(
        utc(2026, 12, 6, 2, 30), utc(2026, 12, 6, 3)
    )
    assert open_span([once], utc(2026, 12, 6, 3)) is None
    assert list(openings(once, utc(2026, 12, 6, 3))) == []


# -- intersections ------------------------------------------------------------------------


def test_every_window_must_be_open_the_span_is_their_intersection() -> None:
    long_night = window("night", schedule="0 1 * * *", duration="3h")
    late = window("late", schedule="30 3 * * *", duration="2h")
    assert open_span([long_night, late], utc(2025, 1, 1)) == Span(
        utc(2025, 1, 1, 3, 30), utc(2025, 1, 1, 4)
    )
    assert open_span([long_night, late], utc(2025, 1, 1, 3, 45)) == Span(
        utc(2025, 1, 1, 3, 45), utc(2025, 1, 1, 4)
    )
    assert open_span([long_night, late], utc(2025, 1, 1, 4)).start == utc(2025, 1, 2, 3, 30)  # type: ignore[union-attr]
    assert is_open([long_night, late], utc(2025, 1, 1, 3, 59))
    assert not is_open([long_night, late], utc(2025, 1, 1, 4))


def test_windows_in_different_zones_intersect_in_real_time() -> None:
    berlin = window("berlin", schedule="0 22 * * *", duration="4h", timeZone="Europe/Berlin")
    new_york = window("ny", schedule="0 18 * * *", duration="3h", timeZone="America/New_York")
    # January: Berlin 22:00-02:00 is 21:00-01:00 UTC; New York 18:00-21:00 is 23:00-02:00 UTC.
    assert open_span([berlin, new_york], utc(2025, 1, 10, 12)) == Span(
        utc(2025, 1, 10, 23), utc(2025, 1, 11, 1)
    )


def test_windows_that_never_open_together_give_none() -> None:
    one = window("one", schedule="0 1 * * *", duration="1h")
    three = window("three", schedule="0 3 * * *", duration="1h")
    assert open_span([one, three], utc(2025, 1, 1)) is None
    assert never_open([one, three], [["one", "three"], ["one"], []], utc(2025, 1, 1)) == [
        ["one", "three"]
    ]
    assert describe(None, utc(2025, 1, 1)) == f"no opening within {HORIZON.days} days"


def test_no_window_means_always_open() -> None:
    span = open_span([], utc(2025, 1, 1))
    assert span is not None and span.start == utc(2025, 1, 1)
    assert describe(span, utc(2025, 1, 1)) == "open (no window applies)"
    assert is_open([], utc(2025, 1, 1))


def test_a_window_that_reopens_before_it_closes_is_open_throughout() -> None:
    hourly = window(schedule="0 * * * *", duration="90m")
    at = utc(2025, 1, 1, 5, 10)
    span = open_span([hourly], at)
    assert span is not None and span.start == at and span.end - at >= timedelta(hours=12)
    again = open_span([hourly], span.end)
    assert again is not None and again.start == span.end


def test_a_schedule_whose_dates_run_out_stops_opening() -> None:
    leap = window(schedule="0 0 29 2 *", duration="1h")
    assert starts(leap, utc(2025, 1, 1), 2) == [utc(2028, 2, 29), utc(2032, 2, 29)]
    assert open_span([leap], utc(2025, 1, 1)) is None  # beyond the horizon


# -- selectors and the gate ---------------------------------------------------------------


def test_windows_apply_by_wave_name_or_by_selector_tag_names_case_insensitive() -> None:
    windows = [
        window("nightly", schedule="0 2 * * *", duration="1h"),
        window("stores", schedule="0 3 * * *", duration="1h", clusters={"kind": "store"}),
        window(
            "eu-stores",
            schedule="0 3 * * *",
            duration="1h",
            clusters={"kind": "store", "region": ["eu", "uk"]},
        ),
    ]

    def names(*wave: str, **tags: str) -> list[str]:
        return [w.name for w in applicable(windows, list(wave), tags)]

    assert names() == []
    assert names("nightly") == ["nightly"]
    assert names(kind="store") == ["stores"]
    assert names("nightly", Kind="store", REGION="uk") == ["nightly", "stores", "eu-stores"]
    assert names(kind="store", region="us") == ["stores"]
    assert names(kind="Store") == []  # values are compared exactly


def test_the_gate_lets_through_what_is_open_now_and_says_when_the_rest_opens() -> None:
    windows = [window("nightly", schedule="0 2 * * *", duration="1h")]
    gate = WriteGate(windows, utc(2025, 1, 1, 1, 30))
    assert gate.allows([]) and gate.allows(["unknown-name"])
    assert not gate.allows(["nightly"])
    assert gate.opening(["nightly"]) == utc(2025, 1, 1, 2)
    assert gate.opening([]) == utc(2025, 1, 1, 1, 30)
    overridden = WriteGate(windows, utc(2025, 1, 1, 1, 30), overridden=True)
    assert overridden.allows(["nightly"]) and overridden.opening(["nightly"]) == utc(
        2025, 1, 1, 1, 30
    )


def test_the_gate_gives_each_write_the_close_of_its_opening_as_a_deadline() -> None:
    nightly = window("nightly", schedule="0 2 * * *", duration="1h")
    late = window("late", schedule="30 2 * * *", duration="1h")
    # Open from 2025-01-01 00:00 to 2025-01-04 00:30 in hourly openings that overlap: one long
    # opening, which `open_span` hands out a day at a time.
    hourly = window("hourly", schedule="0 * 1-3 1 *", duration="90m")
    gate = WriteGate([nightly, late, hourly], utc(2025, 1, 1, 2, 40))
    assert gate.closes(["nightly"]) == utc(2025, 1, 1, 3)
    assert gate.closes(["nightly", "late"]) == utc(2025, 1, 1, 3)  # the first to close
    assert gate.closes(["late"]) == utc(2025, 1, 1, 3, 30)
    first = gate.span(["hourly"])
    assert first is not None and first.end < utc(2025, 1, 4)  # a piece of the opening...
    # ...followed until the deadline is a day ahead at least: no write waits that long.
    deadline = gate.closes(["hourly"])
    assert deadline is not None and deadline > first.end
    assert utc(2025, 1, 2, 2, 40) <= deadline <= utc(2025, 1, 4, 0, 30)
    assert gate.closes([]) is None and gate.closes(["unknown-name"]) is None
    shut = WriteGate([nightly], utc(2025, 1, 1, 3, 10))
    assert shut.closes(["nightly"]) == utc(2025, 1, 1, 3, 10)  # closed now: already due
    overridden = WriteGate([nightly], utc(2025, 1, 1, 3, 10), overridden=True)
    assert overridden.closes(["nightly"]) is None


def test_openings_are_described_for_an_operator() -> None:
    now = utc(2025, 1, 1, 0, 0)
    assert (
        describe(Span(utc(2025, 1, 1, 3, 10), utc(2025, 1, 1, 4)), now)
        == "opens 2025-01-01 03:10 UTC (in 3h 10m)"
    )
    assert describe(Span(now, utc(2025, 1, 1, 4)), now) == "open until 2025-01-01 04:00 UTC"
    assert (
        describe_opening(utc(2025, 1, 1, 0, 0, 12), now)
        == "next opening 2025-01-01 00:00:12 UTC (in 12s)"
    )
    assert (
        describe_opening(utc(2025, 1, 3, 1), now) == "next opening 2025-01-03 01:00 UTC (in 2d 1h)"
    )
    assert describe_opening(None, now) == f"no opening within {HORIZON.days} days"


def test_a_cluster_keeps_its_waves_windows_in_a_catch_up() -> None:
    spec = track(
        maintenanceWindows=[
            {"name": "nightly", "schedule": "0 2 * * *", "duration": "1h"},
            {
                "name": "site-1",
                "schedule": "0 2 * * *",
                "duration": "1h",
                "clusters": {"site": "site-1"},
            },
        ],
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "windows": ["nightly"]},
        ],
    )
    fleet = [
        Cluster(
            id=f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/{name}",
            name=name,
            tags=tags,
        )
        for name, tags in [
            ("c1", {"ring": "canary", "site": "site-1"}),
            ("s1", {"site": "site-2"}),
            ("s2", {}),
        ]
    ]
    bound = {cid.rsplit("/", 1)[-1]: names for cid, names in bound_windows(spec, fleet).items()}
    assert bound == {"c1": ["site-1"], "s1": ["nightly"], "s2": ["nightly"]}


# -- the track spec -----------------------------------------------------------------------


def track(**fields: Any) -> TrackSpec:
    spec: dict[str, Any] = {
        "name": "stores",
        "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
        "configuration": {"name": "stores", "kustomizations": {"apps": {"path": "./apps"}}},
        "fleet": {"subscriptions": [SUB]},
        "waves": [{"name": "all"}],
    }
    return validate_track_spec({**spec, **fields})


def problems(**fields: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        track(**fields)
    return {p.loc: p.msg for p in raised.value.problems}


def test_windows_round_trip_through_the_rollouts_snapshot() -> None:
    spec = track(
        maintenanceWindows=[
            {
                "name": "nightly",
                "schedule": "0  2 * * 1-5",
                "duration": "3h",
                "timeZone": "Europe/Berlin",
            },
            {
                "name": "once",
                "start": "2026-12-06T02:00:00",
                "duration": "90m",
                "clusters": {"kind": ["store", "kiosk"]},
            },
        ],
        waves=[{"name": "all", "windows": ["nightly"]}],
    )
    assert spec.maintenance_windows[0].schedule == "0 2 * * 1-5"
    assert TrackSpec.model_validate(spec.to_wire()) == spec


def test_each_window_problem_names_its_field() -> None:
    found = problems(
        maintenanceWindows=[
            {
                "name": "nightly",
                "schedule": "0 2 * *",
                "duration": "1h",
                "timeZone": "Europe/Berln",
            },
            {"name": "feb", "schedule": "0 2 30 2 *", "duration": "1h"},
            {
                "name": "both",
                "schedule": "0 2 * * *",
                "start": "2026-01-01T00:00:00",
                "duration": "1h",
            },
            {"name": "Bad_Name", "schedule": "0 2 * * *", "duration": "0s", "clusters": {}},
        ],
    )
    assert set(found) == {
        "maintenanceWindows[0].schedule",
        "maintenanceWindows[0].timeZone",
        "maintenanceWindows[1].schedule",
        "maintenanceWindows[2].schedule",
        "maintenanceWindows[3].name",
        "maintenanceWindows[3].duration",
        "maintenanceWindows[3].clusters",
    }
    assert "five fields" in found["maintenanceWindows[0].schedule"]
    assert "IANA time zone" in found["maintenanceWindows[0].timeZone"]
    assert "never fires" in found["maintenanceWindows[1].schedule"]
    assert "not both and not neither" in found["maintenanceWindows[2].schedule"]


def test_waves_name_declared_windows_once_and_names_are_unique() -> None:
    found = problems(
        maintenanceWindows=[
            {"name": "nightly", "schedule": "0 2 * * *", "duration": "1h"},
            {"name": "nightly", "schedule": "0 3 * * *", "duration": "1h"},
        ],
        waves=[{"name": "all", "windows": ["nightly", "nigthly", "nightly"]}],
    )
    assert found == {
        "maintenanceWindows[1].name": "window name 'nightly' is already used by "
        "maintenanceWindows[0]",
        "waves[0].windows[1]": "wave 'all' names window 'nigthly', which maintenanceWindows "
        "does not declare (declared: nightly)",
        "waves[0].windows[2]": "wave 'all' names window 'nightly' twice",
    }


# -- properties ---------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@st.composite
def windows_(draw: st.DrawFn) -> MaintenanceWindow:
    minutes = draw(st.lists(st.sampled_from([0, 15, 30, 45]), min_size=1, max_size=2, unique=True))
    hours = draw(
        st.one_of(
            st.just("*"),
            st.lists(st.integers(0, 23), min_size=1, max_size=4, unique=True).map(
                lambda h: ",".join(map(str, sorted(h)))
            ),
        )
    )
    weekdays = draw(st.sampled_from(["*", "1-5", "0,6", "3"]))
    duration = draw(st.integers(1, 24)) * 15
    schedule = f"{','.join(map(str, sorted(minutes)))} {hours} * * {weekdays}"
    return window(
        f"w{draw(st.integers(0, 999))}",
        schedule=schedule,
        duration=f"{duration}m",
        timeZone=draw(st.sampled_from(ZONES)),
    )


AT = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)


WITHIN = timedelta(days=30)


def open_at(spans: list[Span], at: datetime) -> bool:
    index = bisect.bisect_right([s.start for s in spans], at) - 1
    return index >= 0 and any(s.holds(at) for s in spans[max(0, index - 2) : index + 1])


@settings(max_examples=150, deadline=None)
@given(st.lists(windows_(), min_size=1, max_size=3), AT)
def test_open_span_starts_at_the_first_minute_every_window_is_open(
    windows: list[MaintenanceWindow], at: datetime
) -> None:
    span = open_span(windows, at, WITHIN)
    until = span.start if span is not None else at + WITHIN
    each = [list(itertools.takewhile(lambda s: s.start <= until, openings(w, at))) for w in windows]
    minutes = int((until - at).total_seconds() // 60)
    step = max(1, minutes // 5000)
    earlier = [at + timedelta(minutes=m) for m in range(0, minutes, step)]
    if minutes:
        earlier.append(until - timedelta(minutes=1))
    # No earlier minute has every window open (openings start on whole minutes).
    assert not any(all(open_at(spans, t) for spans in each) for t in earlier)
    if span is None:
        return
    assert span.start >= at and span.end > span.start
    assert all(is_open([w], span.start) for w in windows)
    assert all(is_open([w], span.end - timedelta(minutes=1)) for w in windows)


@settings(max_examples=80, deadline=None)
@given(windows_().map(lambda w: w.model_copy(update={"time_zone": "UTC"})), AT)
def test_a_utc_window_is_open_exactly_when_cron_fired_within_its_duration(
    w: MaintenanceWindow, at: datetime
) -> None:
    assert w.schedule is not None
    length = int(w.duration.total_seconds() // 60)
    fired = any(
        croniter.match(w.schedule, (at - timedelta(minutes=k)).replace(tzinfo=None))
        for k in range(length)
    )
    assert is_open([w], at) == fired
