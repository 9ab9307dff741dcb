"""The replay helper: the timestamp fast path equals dateutil, and handle failures map to errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dateutil.parser import parse as dateutil_parse
from hypothesis import given
from hypothesis import strategies as st

from devhost.durable.history import fmt_time
from devhost.durable.replay import MARKER, fast_timestamp, replay


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)))
def test_fast_timestamp_equals_dateutil_for_devhost_format(moment: datetime) -> None:
    text = fmt_time(moment.replace(tzinfo=UTC))
    fast, slow = fast_timestamp(text), dateutil_parse(text)
    assert fast == slow
    assert fast.tzinfo == slow.tzinfo
    assert fast.strftime("%Y-%m-%dT%H:%M:%S.%fZ") == slow.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_fast_timestamp_handles_seven_digits_and_falls_back() -> None:
    assert fast_timestamp("2024-01-01T00:00:00.1234567Z") == dateutil_parse(
        "2024-01-01T00:00:00.1234567Z"
    )
    assert fast_timestamp("2024-01-01 00:00:00+02:00") == dateutil_parse(
        "2024-01-01 00:00:00+02:00"
    )


def test_replay_maps_user_failure_and_host_failure() -> None:
    state = {"isDone": False, "actions": [], "error": "boom"}

    def user_failure(_: str) -> str:
        raise Exception(f"boom{MARKER}{json.dumps(state)}")

    def host_failure(_: str) -> str:
        raise KeyError("history")

    assert replay(user_failure, "{}") == (state, "boom")
    assert replay(host_failure, "{}") == (None, "KeyError: 'history'")
    assert replay(lambda _: json.dumps({"isDone": True}), "{}") == ({"isDone": True}, None)
