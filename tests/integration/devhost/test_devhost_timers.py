"""Timer triggers: NCRONTAB with seconds, TimeSpan with run_on_startup, past_due after downtime."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from devhost.testing import DevHost, poll

pytestmark = pytest.mark.integration


def timer_runs(host: DevHost, name: str) -> list[dict]:
    return [t for t in host.request("GET", "/api/recorded/timers")[1] if t["name"] == name]


def test_ncrontab_with_seconds_fires_repeatedly(host: DevHost) -> None:
    """'*/1 * * * * *' runs every second, not past due."""
    runs = poll(
        lambda: len(timer_runs(host, "every_second")) >= 2 and timer_runs(host, "every_second")
    )
    assert all(r["past_due"] is False for r in runs)


def test_timespan_schedule_runs_on_startup(host: DevHost) -> None:
    """An hourly TimeSpan schedule with run_on_startup runs once at start."""
    assert timer_runs(host, "hourly_on_startup") == [
        {"name": "hourly_on_startup", "past_due": False}
    ]


def test_yearly_timer_does_not_run_early(host: DevHost) -> None:
    assert timer_runs(host, "yearly") == []


def test_missed_occurrence_runs_once_at_start_as_past_due(tmp_path: Path, app_dir: Path) -> None:
    """An occurrence due while devhost was down runs at the next start with past_due=True."""
    state = tmp_path / "state"
    host = DevHost(app_dir, state_dir=state)
    with host:
        pass
    db = sqlite3.connect(state / "devhost.sqlite3")
    with db:
        changed = db.execute(
            "UPDATE timer_status SET next = '2000-01-01T00:00:00.000000Z' WHERE function = 'yearly'"
        ).rowcount
    db.close()
    assert changed == 1
    with host:
        runs = poll(lambda: timer_runs(host, "yearly"))
        assert runs == [{"name": "yearly", "past_due": True}]
        assert timer_runs(host, "hourly_on_startup") == [
            {"name": "hourly_on_startup", "past_due": False}
        ]


def test_timer_function_uses_the_durable_client(host: DevHost) -> None:
    """A timer with a durable_client_input binding starts an orchestration at startup."""
    done = host.wait_for("started-by-timer")
    assert done["runtimeStatus"] == "Completed"
    assert done["output"][-1] == "from a timer"
