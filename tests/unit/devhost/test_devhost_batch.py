"""Batch preparation and continue-as-new carry-over, on hand-built histories."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from devhost.durable.batch import episode_time, select_events, split_controls
from devhost.durable.history import EventType, event, fmt_time, parse_time
from devhost.durable.instance import Instance, RuntimeStatus
from devhost.durable.store import Message

T = datetime(2024, 1, 1, tzinfo=UTC)
INSTANCE = Instance(
    instance_id="i",
    name="o",
    execution_id="e1",
    status=RuntimeStatus.Running,
    input=None,
    created=fmt_time(T),
    updated=fmt_time(T),
)
HISTORY = [
    event(EventType.OrchestratorStarted, T),
    event(EventType.ExecutionStarted, T, Name="o", Version="", Input="null"),
    event(EventType.TaskScheduled, T, 0, Name="a"),
    event(EventType.TaskScheduled, T, 1, Name="b"),
    event(EventType.OrchestratorCompleted, T),
]


def msg(n: int, ev: dict, execution: str | None = "e1") -> Message:
    return Message(n, "i", execution, ev)


def test_duplicates_stale_and_unknown_completions_are_dropped() -> None:
    done = event(EventType.TaskCompleted, T, TaskScheduledId=0, Result="1")
    batch = [
        msg(1, done),
        msg(2, dict(done)),
        msg(3, event(EventType.TaskCompleted, T, TaskScheduledId=7, Result="1")),
        msg(4, event(EventType.TaskCompleted, T, TaskScheduledId=1, Result="1"), "old"),
        msg(5, event(EventType.EventRaised, T, Name="E", Input="1"), None),
    ]
    events, dropped = select_events(INSTANCE, HISTORY, batch, {})
    assert dropped == 3
    assert [e["EventType"] for e in events] == [EventType.TaskCompleted, EventType.EventRaised]


def test_retry_reserving_events_go_first() -> None:
    completed = event(EventType.TaskCompleted, T, TaskScheduledId=1, Result="1")
    failed = event(EventType.TaskFailed, T, TaskScheduledId=0, Reason="r", Details="d")
    engine_state = {"retries": {"0": {"attempt": 1, "max": 3}}}
    events, _ = select_events(INSTANCE, HISTORY, [msg(1, completed), msg(2, failed)], engine_state)
    assert events == [failed, completed]


def test_suspended_instance_holds_deliverable_messages() -> None:
    raised = msg(1, event(EventType.EventRaised, T, Name="E"), None)
    suspend = msg(2, event(EventType.ExecutionSuspended, T, Reason="x"), None)
    markers, deliver, held = split_controls(INSTANCE, [raised, suspend])
    assert [m["EventType"] for m in markers] == [EventType.ExecutionSuspended]
    assert deliver == [] and held == [raised]
    resume = msg(3, event(EventType.ExecutionResumed, T), None)
    markers, deliver, held = split_controls(
        dataclasses.replace(INSTANCE, status=RuntimeStatus.Suspended), [raised, resume]
    )
    assert held is None and deliver == [raised]


def test_episode_time_never_goes_back_and_covers_fired_timers() -> None:
    future = T + timedelta(days=365 * 100)
    fired = event(EventType.TimerFired, T, TimerId=0, FireAt=fmt_time(future))
    assert episode_time(HISTORY, [fired], T) == parse_time(fmt_time(future))
    later = [event(EventType.OrchestratorStarted, future)]
    assert episode_time(later, [], T) == parse_time(fmt_time(future))
    assert episode_time(later, [], future + timedelta(seconds=1)) == future + timedelta(seconds=1)
