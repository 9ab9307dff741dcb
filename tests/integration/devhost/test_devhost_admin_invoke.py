"""`POST /admin/functions/{name}` runs a timer function once, now, as the Functions host does."""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.testing import DevHost, poll

pytestmark = pytest.mark.integration


def test_an_admin_call_runs_a_timer_now(tmp_path: Path, app_dir: Path) -> None:
    with DevHost(app_dir, state_dir=tmp_path / "state") as host:
        code, _ = host.request("POST", f"/admin/functions/yearly?code={host.function_key}", {})
        assert code == 202
        runs = poll(
            lambda: [
                t for t in host.request("GET", "/api/recorded/timers")[1] if t["name"] == "yearly"
            ]
        )
        assert runs == [{"name": "yearly", "past_due": False}]


def test_only_timers_run_this_way_and_only_with_the_key(tmp_path: Path, app_dir: Path) -> None:
    with DevHost(app_dir, state_dir=tmp_path / "state") as host:
        assert host.request("POST", "/admin/functions/yearly", {})[0] == 401
        code, body = host.request("POST", f"/admin/functions/nope?code={host.function_key}", {})
        assert code == 404 and "no timer function" in body["error"]
