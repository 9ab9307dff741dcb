"""Crash recovery: SIGKILL devhost during a fan-out of slow activities, restart on its state."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from devhost.testing import DevHost, poll

pytestmark = pytest.mark.integration

ACTIVITIES = 24
GATED_FROM = 20  # activities 20..23 block until the test opens the gate after the restart


def raw_history(state: Path, instance_id: str) -> list[dict]:
    db = sqlite3.connect(state / "devhost.sqlite3")
    try:
        rows = db.execute(
            "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
        ).fetchall()
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def test_sigkill_during_fan_out_then_restart(tmp_path: Path, app_dir: Path) -> None:
    """Every activity result is recorded exactly once and the output is correct after a crash."""
    marks = tmp_path / "marks.txt"
    host = DevHost(app_dir, state_dir=tmp_path / "state", env={"DEVHOST_TEST_MARKS": str(marks)})
    instance_id = "crash-fan-out"
    gate = tmp_path / "gate"
    spec = {
        "n": ACTIVITIES,
        "batch": 12,
        "activity": "slow",
        "delay": 0.2,
        "gate": str(gate),
        "gate_from": GATED_FROM,
    }
    with host:
        status, _ = host.request("POST", f"/api/orchestrators/fan_out/{instance_id}", spec)
        assert status == 202
        poll(
            lambda: marks.exists() and len(marks.read_text().splitlines()) >= GATED_FROM, timeout=60
        )
        host.kill()
        before = Counter(marks.read_text().splitlines())
        assert set(before) == {f"slow {i}" for i in range(GATED_FROM)}
        host.start()
        gate.touch()
        done = host.wait_for(instance_id, timeout=90, history=True)
    assert done["runtimeStatus"] == "Completed", done
    assert done["output"] == sum(range(ACTIVITIES))
    shown = [e for e in done["historyEvents"] if e["EventType"] == "TaskCompleted"]
    assert len(shown) == ACTIVITIES
    events = raw_history(tmp_path / "state", instance_id)
    keys = Counter(
        (e["EventType"], e.get("EventId"), e.get("TaskScheduledId"), e.get("TimerId"))
        for e in events
        if e["EventType"] not in (12, 13)
    )
    assert [k for k, n in keys.items() if n > 1] == []
    scheduled = [e["EventId"] for e in events if e["EventType"] == 4]
    completed = [e["TaskScheduledId"] for e in events if e["EventType"] == 5]
    assert sorted(scheduled) == sorted(completed) == list(range(ACTIVITIES))
    runs = Counter(marks.read_text().splitlines())
    assert set(runs) == {f"slow {i}" for i in range(ACTIVITIES)}


def test_sigkill_while_parents_wait_for_children_and_timers(tmp_path: Path, app_dir: Path) -> None:
    """Sub-orchestrations, timers and failures all reach their correct end after a crash."""
    state = tmp_path / "state"
    host = DevHost(app_dir, state_dir=state)
    parents = [f"crash-parent-{i}" for i in range(4)]
    timers = [f"crash-timer-{i}" for i in range(2)]
    with host:
        for instance_id in parents:
            assert host.request("POST", f"/api/orchestrators/parent/{instance_id}")[0] == 202
        for instance_id in timers:
            assert (
                host.request("POST", f"/api/orchestrators/timers_and_ids/{instance_id}")[0] == 202
            )

        def some_children_done() -> bool:
            code, rows = host.request(
                "GET",
                f"/runtime/webhooks/durabletask/instances/?runtimeStatus=Completed"
                f"&code={host.function_key}",
            )
            return code == 200 and len(rows) >= 3

        poll(some_children_done, timeout=60)
        host.kill()
        host.start()
        for instance_id in parents:
            out = host.wait_for(instance_id, timeout=90)["output"]
            assert out["auto"]["value"] == 4 and out["named"]["value"] == 10
            assert [b["value"] for b in out["both"]] == [20, 40]
            assert "orchestrator gave up" in out["failed"]
        for instance_id in timers:
            assert host.wait_for(instance_id, timeout=90)["runtimeStatus"] == "Completed"
    for instance_id in parents + timers:
        events = raw_history(state, instance_id)
        keys = Counter(
            (e["EventType"], e.get("EventId"), e.get("TaskScheduledId"), e.get("TimerId"))
            for e in events
            if e["EventType"] not in (12, 13)
        )
        assert [k for k, n in keys.items() if n > 1] == [], instance_id
