"""Episode decisions: turning the SDK's action list into history events, work and timers.

Pure functions over the history and the engine state, so they are easy to test. The SDK
gives each yielded task a sequence id in yield order (and reserves ids for retry timers and
re-schedules); `decide` reproduces that allocation, checks replayed actions against the
recorded scheduling events (non-determinism) and schedules the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devhost.durable import actions as act
from devhost.durable.history import SCHEDULING, EventType, event, fmt_time, parse_time
from devhost.durable.instance import Instance
from devhost.loader import FunctionIndex, missing_function


@dataclass
class Decisions:
    """What one episode decided, committed together."""

    events: list[dict[str, Any]] = field(default_factory=list)
    work: list[tuple[int, str, str | None]] = field(default_factory=list)
    timers: list[tuple[int, datetime]] = field(default_factory=list)
    cancelled_timers: list[int] = field(default_factory=list)
    children: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    failure: str | None = None
    continue_as_new: tuple[str | None] | None = None


#: The call actions: what kind of function each calls, and whether it retries.
_CALLS = {
    act.CALL_ACTIVITY: ("activity", False),
    act.CALL_ACTIVITY_WITH_RETRY: ("activity", True),
    act.CALL_SUB_ORCHESTRATOR: ("orchestrator", False),
    act.CALL_SUB_ORCHESTRATOR_WITH_RETRY: ("orchestrator", True),
}


def _unknown_call(name: str, target: str, index: FunctionIndex) -> str | None:
    """The failure of a call to a name that is no `target` function; None when it is one."""
    if target == "activity":
        if name.lower() in index.activities:
            return None
        return (
            f"{missing_function(name, target)} Check the name passed to call_activity against "
            "the app's activity functions."
        )
    return None if name.lower() in index.orchestrators else missing_function(name, target)


def retry_info(action: dict[str, Any], kind: str, child_id: str | None) -> dict[str, Any]:
    options = action.get("retryOptions") or {}
    return {
        "kind": kind,
        "name": action.get("functionName"),
        "input": action.get("input"),
        "instance_id": child_id if action.get("instanceId") else None,
        "max": int(options.get("maxNumberOfAttempts", 1)),
        "interval_ms": int(options.get("firstRetryIntervalInMilliseconds", 1000)),
        "attempt": 1,
    }


def decide(
    inst: Instance,
    full: list[dict[str, Any]],
    state: dict[str, Any],
    engine_state: dict[str, Any],
    now: datetime,
    new_events: list[dict[str, Any]],
    index: FunctionIndex,
) -> Decisions:
    """Turn the SDK's action list into history events and work.

    `engine_state` (next sequence id, the id of each flattened action, pending retries) is
    updated in place; it is committed with the episode.
    """
    decisions = Decisions()
    next_id: int = engine_state.setdefault("next_id", 0)
    ids: list[int | None] = engine_state.setdefault("ids", [])
    retries: dict[str, Any] = engine_state.setdefault("retries", {})
    retry_timers: dict[str, Any] = engine_state.setdefault("retry_timers", {})

    def allocate() -> int:
        nonlocal next_id
        value = next_id
        next_id += 1
        return value

    # 1. events that reserve ids inside the SDK's retry bookkeeping, in batch order
    for ev in new_events:
        kind = ev["EventType"]
        if kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed):
            info = retries.pop(str(ev["TaskScheduledId"]), None)
            if info is not None:
                timer_id = allocate()
                fire_at = now + timedelta(milliseconds=info["interval_ms"])
                decisions.events.append(
                    event(EventType.TimerCreated, now, timer_id, FireAt=fmt_time(fire_at))
                )
                decisions.timers.append((timer_id, fire_at))
                retry_timers[str(timer_id)] = info
        elif kind == EventType.TimerFired:
            info = retry_timers.pop(str(ev["TimerId"]), None)
            if info is not None and info["attempt"] < info["max"]:
                task_id = allocate()
                info = dict(info, attempt=info["attempt"] + 1)
                retries[str(task_id)] = info
                _schedule(
                    inst,
                    info["kind"],
                    info["name"],
                    info["input"],
                    info["instance_id"],
                    task_id,
                    now,
                    decisions,
                )
    # 2. replayed actions must match what history recorded; new ones get the next ids
    flat = act.flatten(state)
    recorded = {e["EventId"]: e for e in full if e["EventType"] in SCHEDULING}
    seen = len(ids)
    for position, action in enumerate(flat[:seen]):
        replayed_id = ids[position]
        if replayed_id is None:
            continue
        mismatch = act.nondeterminism(action, replayed_id, recorded.get(replayed_id))
        if mismatch:
            decisions.failure = mismatch
            return decisions
        if action.get("actionType") == act.CREATE_TIMER and action.get("isCanceled"):
            decisions.cancelled_timers.append(replayed_id)
    if len(flat) < seen and not state.get("isDone"):
        decisions.failure = (
            "Non-Deterministic workflow detected: the orchestration replay produced "
            f"{len(flat)} actions, but history recorded {seen}."
        )
        return decisions
    can: tuple[str | None] | None = None
    for action in flat[seen:]:
        kind = action.get("actionType")
        if kind == act.WAIT_FOR_EXTERNAL_EVENT:
            ids.append(None)
            continue
        task_id = allocate()
        ids.append(task_id)
        if can is not None:
            continue
        if kind in _CALLS:
            target, with_retry = _CALLS[kind]
            name = str(action.get("functionName"))
            unknown = _unknown_call(name, target, index)
            if unknown:
                decisions.failure = unknown
                return decisions
            child_id = action.get("instanceId") if target == "orchestrator" else None
            if with_retry:
                retries[str(task_id)] = retry_info(action, target, child_id)
            _schedule(inst, target, name, action.get("input"), child_id, task_id, now, decisions)
        elif kind == act.CREATE_TIMER:
            fire_at = parse_time(str(action["fireAt"]))
            decisions.events.append(
                event(EventType.TimerCreated, now, task_id, FireAt=fmt_time(fire_at))
            )
            if not action.get("isCanceled"):
                decisions.timers.append((task_id, fire_at))
        elif kind == act.CONTINUE_AS_NEW:
            can = (action.get("input"),)
        else:
            what = {
                act.CALL_ENTITY: "call_entity",
                act.SIGNAL_ENTITY: "signal_entity",
                act.CALL_HTTP: "call_http",
            }
            decisions.failure = (
                "devhost does not support "
                f"{what.get(kind, f'action type {kind}') if isinstance(kind, int) else kind} "
                "(see docs/devhost.md); run this orchestration on Azure or Core Tools."
            )
            return decisions
    engine_state["next_id"] = next_id
    decisions.continue_as_new = can
    return decisions


def _schedule(
    inst: Instance,
    kind: str,
    name: str,
    input_text: str | None,
    child_id: str | None,
    task_id: int,
    now: datetime,
    decisions: Decisions,
) -> None:
    if kind == "activity":
        decisions.events.append(
            event(EventType.TaskScheduled, now, task_id, Name=name, Input=input_text)
        )
        decisions.work.append((task_id, name, input_text))
        return
    child = child_id or f"{inst.execution_id}:{task_id}"
    decisions.events.append(
        event(
            EventType.SubOrchestrationInstanceCreated,
            now,
            task_id,
            Name=name,
            InstanceId=child,
            Input=input_text,
        )
    )
    decisions.children.append((task_id, name, child, input_text))


def continues_as_new(state: dict[str, Any]) -> bool:
    """True when the orchestrator state holds a continue-as-new action."""
    return any(a.get("actionType") == act.CONTINUE_AS_NEW for a in act.flatten(state))
