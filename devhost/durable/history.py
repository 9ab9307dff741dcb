"""Durable Task history events as the azure-functions-durable SDK reads them (EventType as int)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any


class EventType(IntEnum):
    """DTFx `EventType` numbers."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


#: Events that complete a task the orchestrator scheduled, keyed by the id field they carry.
COMPLETIONS = {
    EventType.TaskCompleted: "TaskScheduledId",
    EventType.TaskFailed: "TaskScheduledId",
    EventType.SubOrchestrationInstanceCompleted: "TaskScheduledId",
    EventType.SubOrchestrationInstanceFailed: "TaskScheduledId",
    EventType.TimerFired: "TimerId",
}

#: Events that record a decision carrying the sequence id in EventId.
SCHEDULING = {
    EventType.TaskScheduled,
    EventType.TimerCreated,
    EventType.SubOrchestrationInstanceCreated,
    EventType.EventSent,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def fmt_time(t: datetime) -> str:
    """Timestamp as the SDK expects it: ISO 8601 with microseconds and a Z."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fmt_status_time(t: datetime) -> str:
    """Timestamp as the HTTP status API shows it (seconds precision)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse the timestamps devhost writes and the ones clients send (Z or offset)."""
    value = text.strip().replace("Z", "+00:00")
    if "." in value:
        head, _, rest = value.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        tail = rest[len(digits) :]
        value = f"{head}.{digits[:6].ljust(6, '0')}{tail}"
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t


def event(
    kind: EventType, timestamp: datetime, event_id: int = -1, **fields: Any
) -> dict[str, Any]:
    """One history event with the keys the SDK requires."""
    return {
        "EventType": int(kind),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": fmt_time(timestamp),
        **fields,
    }


def parse_json_text(text: str | None) -> Any:
    """Turn a stored JSON text into its value; non-JSON text (a terminate reason) stays a string."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return text


def status_history(events: list[dict[str, Any]], *, with_output: bool) -> list[dict[str, Any]]:
    """Shape history for `showHistory=true` the way the extension does.

    EventType becomes its name, EventId/IsPlayed go, scheduling and episode markers go, and
    completions gain FunctionName/ScheduledTime (and Input) from their scheduling event.
    """
    scheduled: dict[int, dict[str, Any]] = {}
    out = []
    for ev in events:
        kind = EventType(ev["EventType"])
        if kind in SCHEDULING:
            scheduled[ev["EventId"]] = ev
        if kind in (
            EventType.TaskScheduled,
            EventType.SubOrchestrationInstanceCreated,
            EventType.OrchestratorStarted,
            EventType.OrchestratorCompleted,
        ):
            continue
        shown: dict[str, Any] = {"EventType": kind.name}
        for key, value in ev.items():
            if key in {"EventType", "EventId", "IsPlayed", "TaskScheduledId"} or key.startswith(
                "_"
            ):
                continue
            shown[key] = value
        if kind == EventType.ExecutionStarted:
            shown["FunctionName"] = ev.get("Name", "")
            shown.pop("Name", None)
            shown["Input"] = parse_json_text(ev.get("Input"))
        elif kind in COMPLETIONS and kind != EventType.TimerFired:
            origin = scheduled.get(ev[COMPLETIONS[kind]], {})
            shown["FunctionName"] = origin.get("Name", "")
            shown["ScheduledTime"] = origin.get("Timestamp", "")
            if "Input" in origin:
                shown["Input"] = parse_json_text(origin["Input"])
        if "Result" in shown:
            if with_output:
                shown["Result"] = parse_json_text(shown["Result"])
            else:
                del shown["Result"]
        if kind == EventType.EventRaised:
            shown["Input"] = parse_json_text(ev.get("Input"))
        if kind == EventType.ExecutionCompleted and "Result" not in shown and with_output:
            shown["Result"] = None
        out.append(shown)
    return out
