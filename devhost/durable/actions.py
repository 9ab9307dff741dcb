"""The orchestrator state the SDK returns: flatten its actions and check them against history."""

from __future__ import annotations

from typing import Any

from devhost.durable.history import EventType

CALL_ACTIVITY = 0
CALL_ACTIVITY_WITH_RETRY = 1
CALL_SUB_ORCHESTRATOR = 2
CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
CONTINUE_AS_NEW = 4
CREATE_TIMER = 5
WAIT_FOR_EXTERNAL_EVENT = 6
CALL_ENTITY = 7
CALL_HTTP = 8
SIGNAL_ENTITY = 9
WHEN_ANY = 11
WHEN_ALL = 12

_KIND_NAMES = {
    CALL_ACTIVITY: "an activity task",
    CALL_ACTIVITY_WITH_RETRY: "an activity task",
    CALL_SUB_ORCHESTRATOR: "a sub-orchestration",
    CALL_SUB_ORCHESTRATOR_WITH_RETRY: "a sub-orchestration",
    CREATE_TIMER: "a durable timer",
    CONTINUE_AS_NEW: "a continue-as-new",
    CALL_ENTITY: "an entity call",
    CALL_HTTP: "a durable HTTP call",
    SIGNAL_ENTITY: "an entity signal",
}

#: Which scheduling event each action type records, for the non-determinism check.
ACTION_EVENT = {
    CALL_ACTIVITY: EventType.TaskScheduled,
    CALL_ACTIVITY_WITH_RETRY: EventType.TaskScheduled,
    CALL_SUB_ORCHESTRATOR: EventType.SubOrchestrationInstanceCreated,
    CALL_SUB_ORCHESTRATOR_WITH_RETRY: EventType.SubOrchestrationInstanceCreated,
    CREATE_TIMER: EventType.TimerCreated,
}

_EVENT_NAMES = {
    EventType.TaskScheduled: "an activity task",
    EventType.SubOrchestrationInstanceCreated: "a sub-orchestration",
    EventType.TimerCreated: "a durable timer",
}


def flatten(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Actions depth-first in yield order, compound WhenAll/WhenAny expanded into their children."""
    actions = state.get("actions") or []
    if state.get("schemaVersion"):
        top = actions[0] if actions else []
    else:
        top = [a for group in actions for a in group]
    out: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for action in items:
            if action.get("actionType") in (WHEN_ANY, WHEN_ALL):
                walk(action.get("compoundActions") or [])
            else:
                out.append(action)

    walk(top)
    return out


def action_name(action: dict[str, Any]) -> str:
    kind = action.get("actionType")
    if kind == CREATE_TIMER:
        return ""
    return str(action.get("functionName") or action.get("externalEventName") or "")


def nondeterminism(
    action: dict[str, Any], task_id: int, recorded: dict[str, Any] | None
) -> str | None:
    """Compare a replayed action with the event recorded for its id; the mismatch text or None."""
    kind = action.get("actionType")
    expected = ACTION_EVENT.get(kind) if isinstance(kind, int) else None
    if expected is None or recorded is None:
        return None
    recorded_kind = EventType(recorded["EventType"])
    recorded_name = str(recorded.get("Name") or "")
    name = action_name(action)
    if recorded_kind == expected and recorded_name.lower() == name.lower():
        return None
    described = _EVENT_NAMES.get(recorded_kind, recorded_kind.name)
    produced = _KIND_NAMES.get(kind, f"action type {kind}") if isinstance(kind, int) else "?"
    return (
        "Non-Deterministic workflow detected: A previous execution of this orchestration "
        f"scheduled {described} with sequence number {task_id} named '{recorded_name}', but "
        f"the current orchestration replay instead produced {produced} named '{name}'. "
        "The orchestrator code changed while this instance was running, or it is not "
        "deterministic (it must not read the clock, random numbers or I/O directly)."
    )
