"""Preparing an episode's batch: control markers, stale and duplicate messages, event order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from devhost.durable.history import COMPLETIONS, SCHEDULING, EventType, parse_time
from devhost.durable.instance import Instance, RuntimeStatus
from devhost.durable.store import Message


def split_controls(
    inst: Instance, messages: list[Message]
) -> tuple[list[dict[str, Any]], list[Message], list[Message] | None]:
    """Split control markers from deliverable events; `held` is set while suspended."""
    suspended = inst.status == RuntimeStatus.Suspended
    markers: list[dict[str, Any]] = []
    deliver: list[Message] = []
    for m in messages:
        kind = m.event["EventType"]
        if kind == EventType.ExecutionSuspended:
            if not suspended:
                suspended = True
                markers.append(m.event)
        elif kind == EventType.ExecutionResumed:
            if suspended:
                suspended = False
                markers.append(m.event)
        else:
            deliver.append(m)
    if suspended:
        return markers, [], deliver
    return markers, deliver, None


def select_events(
    inst: Instance,
    history: list[dict[str, Any]],
    deliver: list[Message],
    engine_state: dict[str, Any],
) -> tuple[list[dict[str, Any]], int]:
    """Drop stale and duplicate completions; put events that reserve retry ids first.

    Returns (events to deliver, number dropped). The SDK reserves a retry timer id when it
    sees a retryable TaskFailed and a re-schedule id when that timer fires; ids of new actions
    come after them only if those events come first in the batch.
    """
    scheduled = set()
    done = set()
    started = False
    for ev in history:
        kind = ev["EventType"]
        if kind in SCHEDULING:
            scheduled.add(ev["EventId"])
        elif kind in COMPLETIONS:
            done.add(ev[COMPLETIONS[EventType(kind)]])
        elif kind == EventType.ExecutionStarted:
            started = True
    retries = engine_state.get("retries", {})
    retry_timers = engine_state.get("retry_timers", {})
    first: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    dropped = 0
    for m in deliver:
        ev = m.event
        kind = ev["EventType"]
        if m.execution_id is not None and m.execution_id != inst.execution_id:
            dropped += 1
            continue
        if kind == EventType.ExecutionStarted:
            if started:
                dropped += 1
                continue
            started = True
            rest.insert(0, ev)
            continue
        if kind in COMPLETIONS:
            task_id = ev[COMPLETIONS[EventType(kind)]]
            if task_id in done or task_id not in scheduled:
                dropped += 1
                continue
            done.add(task_id)
            key = str(task_id)
            reserves = (
                kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed)
                and key in retries
            ) or (
                kind == EventType.TimerFired
                and key in retry_timers
                and retry_timers[key]["attempt"] < retry_timers[key]["max"]
            )
            (first if reserves else rest).append(ev)
            continue
        rest.append(ev)
    if not started:
        return [], dropped
    return first + rest, dropped


def episode_time(
    history: list[dict[str, Any]], new_events: list[dict[str, Any]], now: datetime
) -> datetime:
    """`now`, but never before the previous episode or a fired timer's fireAt."""
    for ev in reversed(history):
        if ev["EventType"] == EventType.OrchestratorStarted:
            now = max(now, parse_time(ev["Timestamp"]))
            break
    for ev in new_events:
        if ev["EventType"] == EventType.TimerFired and ev.get("FireAt"):
            now = max(now, parse_time(ev["FireAt"]))
    return now
