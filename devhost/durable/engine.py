"""The orchestration engine: episodes, the activity worker pool and instance management.

An *episode* takes every message waiting for one instance, appends them to its history
behind a fresh OrchestratorStarted, replays the orchestrator through the SDK's own handle
and commits the new history, status, outgoing messages and activity work in one SQLite
transaction. Activities run on a pool sized by host.json; their result and the removal of
their work item are committed together, so an activity whose result was not committed
runs again after a restart (at-least-once), while completions already in history are
dropped as duplicates (exactly-once state transitions).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devhost.config import HostConfig
from devhost.durable.batch import episode_time, select_events, split_controls
from devhost.durable.clock import Clock
from devhost.durable.decisions import Decisions, continues_as_new, decide
from devhost.durable.history import EventType, event, fmt_time
from devhost.durable.replay import replay
from devhost.durable.store import Message, Store, WorkItem
from devhost.invoke import Invoker, log_invocation
from devhost.loader import FunctionIndex

log = logging.getLogger("devhost.durable")

RUNNING_STATES = {"Running", "Pending", "Suspended", "ContinuedAsNew"}
TERMINAL_STATES = {"Completed", "Failed", "Terminated", "Canceled"}
_RETRY_BACKOFF_S = 5.0
COALESCE_MAX_S = 0.25
#: The Durable Task Scheduler accepts instance ids of at most 100 printable characters
#: (learn.microsoft.com, "Durable Task Scheduler" overview, limits). The Azure Storage backend
#: allows 256, but an id that only works there breaks on the scheduler, so devhost refuses it.
MAX_INSTANCE_ID_LENGTH = 100


class EngineError(Exception):
    """A request the engine refuses; `status` is the HTTP status the Durable API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Cached:
    version: int
    history: list[dict[str, Any]]


def validate_instance_id(instance_id: str) -> None:
    """Reject ids the extension (DurableClient.cs) or the Durable Task Scheduler rejects."""
    if not instance_id or len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        shown = instance_id if len(instance_id) <= 60 else instance_id[:60] + "..."
        raise EngineError(
            400,
            f"Instance ID '{shown}' is {len(instance_id)} characters long; instance IDs must be "
            f"between 1 and {MAX_INSTANCE_ID_LENGTH} characters (the Durable Task Scheduler's "
            "limit).",
        )
    if instance_id.startswith("@"):
        raise EngineError(400, f"Instance ID '{instance_id}' must not start with '@'.")
    bad = [c for c in instance_id if c in "/\\#?" or ord(c) < 32 or ord(c) == 127]
    if bad:
        raise EngineError(
            400, f"Instance ID '{instance_id}' contains invalid characters: {''.join(bad)!r}."
        )


def _uuid_hex() -> str:
    return uuid.uuid4().hex


class Engine:
    """Owns the store, the dispatch loops and every state transition of every instance.

    `clock` is the durable time (history timestamps, timer due times); it defaults to the
    store's clock and must be the same one, since the store decides which timers are due.
    `new_id` makes generated instance and execution ids (random uuid4 hex by default).
    """

    def __init__(
        self,
        config: HostConfig,
        index: FunctionIndex,
        store: Store,
        clock: Clock | None = None,
        *,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        if clock is not None and clock != store.clock:
            raise ValueError(
                "the engine and its store must share one clock: pass it to Store(path, clock=...)"
            )
        self.config = config
        self.index = index
        self.store = store
        self.clock: Clock = store.clock
        self._new_id = new_id or _uuid_hex
        self.stats: Counter[str] = Counter()
        self._busy_instances: set[str] = set()
        self._ready_since: dict[str, float] = {}
        self._replay_cost: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._busy_work: set[int] = set()
        self._wake_orchestrations = asyncio.Event()
        self._wake_activities = asyncio.Event()
        self._cache: dict[str, _Cached] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._orchestrator_pool = ThreadPoolExecutor(
            config.max_orchestrators, thread_name_prefix="orchestrator"
        )
        self._activity_pool = ThreadPoolExecutor(
            config.max_activities, thread_name_prefix="activity"
        )
        self._invoker = Invoker(self._activity_pool)

    # lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Run both dispatch loops until cancelled."""
        await asyncio.gather(self._orchestration_loop(), self._activity_loop())

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._orchestrator_pool.shutdown(wait=False, cancel_futures=True)
        self._activity_pool.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def wake(self) -> None:
        self._wake_orchestrations.set()
        self._wake_activities.set()

    async def _wait(self, wake: asyncio.Event, timeout: float) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # races with the event being set, and the loop would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await wake.wait()

    async def _orchestration_loop(self) -> None:
        while True:
            self._wake_orchestrations.clear()
            now = time.monotonic()
            self._backoff = {k: v for k, v in self._backoff.items() if v > now}
            timeout = 1.0
            capacity = self.config.max_orchestrators - len(self._busy_instances)
            if capacity > 0:
                exclude = self._busy_instances | set(self._backoff)
                for instance_id in self.store.ready_instances(exclude, capacity):
                    wait = self._coalesce_wait(instance_id, now)
                    if wait > 0:
                        timeout = min(timeout, wait)
                        continue
                    self._ready_since.pop(instance_id, None)
                    self._busy_instances.add(instance_id)
                    self._spawn(self._episode_guarded(instance_id))
            nxt = self.store.next_visible_at()
            if nxt is not None:
                timeout = min(timeout, max(0.01, nxt - self.clock.time()))
            await self._wait(self._wake_orchestrations, timeout)

    def _coalesce_wait(self, instance_id: str, now: float) -> float:
        """Seconds to hold an instance back so more completions join its next episode.

        While an instance still has activities in flight, devhost waits up to the duration of
        its previous replay (at most COALESCE_MAX_S) before running the next episode, so a
        large fan-out is not replayed once per completion. Nothing waits when no work is out.
        """
        cost = self._replay_cost.get(instance_id)
        if not cost:
            return 0.0
        first = self._ready_since.setdefault(instance_id, now)
        remaining = first + min(COALESCE_MAX_S, cost) - now
        if remaining <= 0 or not self.store.has_work(instance_id):
            return 0.0
        return remaining

    async def _activity_loop(self) -> None:
        while True:
            self._wake_activities.clear()
            capacity = self.config.max_activities - len(self._busy_work)
            if capacity > 0:
                for item in self.store.pending_work(self._busy_work, capacity):
                    self._busy_work.add(item.id)
                    self._spawn(self.run_activity(item))
            await self._wait(self._wake_activities, 1.0)

    # instance management (called by the HTTP API) ------------------------------------------
    def start_instance(
        self,
        name: str,
        instance_id: str | None,
        input_text: str | None,
        *,
        parent: tuple[str, str, int] | None = None,
    ) -> str:
        """Create (or replace a finished) instance and queue its ExecutionStarted message."""
        spec = self.index.orchestrators.get(name.lower())
        if spec is None:
            raise EngineError(
                400,
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator "
                "function. Additional info: check the orchestration name passed to start_new.",
            )
        instance_id = instance_id or self._new_id()
        validate_instance_id(instance_id)
        with self.store.transaction():
            self._create_instance(name, instance_id, input_text, parent)
        self._wake_orchestrations.set()
        return instance_id

    def _create_instance(
        self,
        name: str,
        instance_id: str,
        input_text: str | None,
        parent: tuple[str, str, int] | None,
    ) -> None:
        existing = self.store.get_instance(instance_id)
        if (
            existing
            and existing["status"] in RUNNING_STATES
            and (self.config.overridable_states != "AnyState")
        ):
            raise EngineError(
                500,
                f"An Orchestration instance with the status {existing['status']} already exists "
                f"with the instance ID '{instance_id}'. Wait for it to finish, terminate it, or "
                "start the new orchestration with another instance ID.",
            )
        if existing:
            self.store.delete_instance(instance_id)
            self._cache.pop(instance_id, None)
        now = self.clock.utcnow()
        execution_id = self._new_id()
        self.store.put_instance(
            {
                "instance_id": instance_id,
                "name": name,
                "execution_id": execution_id,
                "status": "Pending",
                "input": input_text,
                "created": fmt_time(now),
                "updated": fmt_time(now),
                "parent_instance": parent[0] if parent else None,
                "parent_execution": parent[1] if parent else None,
                "parent_task": parent[2] if parent else None,
                "engine": "{}",
                "version": 0,
            }
        )
        started = event(
            EventType.ExecutionStarted,
            now,
            Name=name,
            Version="",
            Input=input_text,
        )
        if parent:
            started["ParentInstance"] = {"InstanceId": parent[0]}
        self.store.add_message(instance_id, execution_id, started)

    def _require(self, instance_id: str) -> dict[str, Any]:
        inst = self.store.get_instance(instance_id)
        if inst is None:
            raise EngineError(404, f"No instance with ID '{instance_id}' was found.")
        return inst

    def raise_event(self, instance_id: str, name: str, data_text: str | None) -> None:
        inst = self._require(instance_id)
        if inst["status"] in TERMINAL_STATES:
            raise EngineError(
                410, f"Instance '{instance_id}' is {inst['status']}; it can no longer take events."
            )
        with self.store.transaction():
            self.store.add_message(
                instance_id,
                None,
                event(EventType.EventRaised, self.clock.utcnow(), Name=name, Input=data_text),
            )
        self._wake_orchestrations.set()

    def control(self, instance_id: str, kind: EventType, reason: str | None) -> None:
        """Queue terminate, suspend or resume; 404 for unknown and 410 for finished instances."""
        inst = self._require(instance_id)
        if inst["status"] in TERMINAL_STATES:
            raise EngineError(
                410, f"Instance '{instance_id}' is {inst['status']}; it cannot be changed anymore."
            )
        field_name = "Input" if kind == EventType.ExecutionTerminated else "Reason"
        with self.store.transaction():
            control = event(kind, self.clock.utcnow())
            control[field_name] = reason
            self.store.add_message(instance_id, None, control)
            if kind in (EventType.ExecutionTerminated, EventType.ExecutionResumed):
                self.store.release_messages(instance_id)
        self._wake_orchestrations.set()

    def purge(self, instance_ids: list[str]) -> int:
        with self.store.transaction():
            for instance_id in instance_ids:
                self.store.delete_instance(instance_id)
                self._cache.pop(instance_id, None)
        return len(instance_ids)

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        return self.store.load_history(instance_id)

    # episodes ----------------------------------------------------------------------------
    async def _episode_guarded(self, instance_id: str) -> None:
        try:
            await self.run_episode(instance_id)
        except _Conflict as exc:
            log.info("%s", exc)
        except Exception:
            log.exception(
                "devhost failed to process instance '%s'; it is retried in %.0fs. This is a "
                "devhost bug: please report it with the traceback.",
                instance_id,
                _RETRY_BACKOFF_S,
            )
            self._backoff[instance_id] = time.monotonic() + _RETRY_BACKOFF_S
        finally:
            self._busy_instances.discard(instance_id)
            self._wake_orchestrations.set()

    def _load_history(self, inst: dict[str, Any]) -> list[dict[str, Any]]:
        cached = self._cache.get(inst["instance_id"])
        if cached is not None and cached.version == inst["version"]:
            return cached.history
        history = self.store.load_history(inst["instance_id"])
        self._cache[inst["instance_id"]] = _Cached(inst["version"], history)
        return history

    async def run_episode(self, instance_id: str) -> None:
        """Process every visible message of one instance (a no-op when there is none).

        The dispatch loop runs it guarded and at most once per instance at a time; the
        in-process harness (devhost.inprocess) calls it directly, one episode at a time.
        """
        inst = self.store.get_instance(instance_id)
        messages = self.store.messages_for(instance_id)
        if not messages:
            return
        if inst is None:
            with self.store.transaction():
                self.store.delete_messages([m.id for m in messages])
            log.warning(
                "dropped %d message(s) for unknown instance '%s'", len(messages), instance_id
            )
            return
        if any(m.event["EventType"] == EventType.ExecutionTerminated for m in messages):
            self._terminate(inst, messages)
            return
        if inst["status"] in TERMINAL_STATES:
            with self.store.transaction():
                self.store.delete_messages([m.id for m in messages])
            log.info(
                "dropped %d message(s) for %s instance '%s'",
                len(messages),
                inst["status"],
                instance_id,
            )
            return
        history = self._load_history(inst)
        markers, deliver, held = split_controls(inst, messages)
        if held is not None:
            with self.store.transaction():
                self._check_version(inst)
                self.store.hold_messages([m.id for m in held])
                held_ids = {m.id for m in held}
                self.store.delete_messages([m.id for m in messages if m.id not in held_ids])
                self._commit_markers(inst, history, markers, "Suspended")
            return
        engine_state = json.loads(inst["engine"] or "{}")
        new_events, dropped = select_events(inst, history, deliver, engine_state)
        consumed = [m.id for m in messages]
        if not new_events and not markers:
            with self.store.transaction():
                self.store.delete_messages(consumed)
            if dropped:
                log.info("dropped %d duplicate message(s) for '%s'", dropped, instance_id)
            return
        await self._replay_and_commit(inst, history, markers, new_events, consumed, engine_state)

    async def _replay_and_commit(
        self,
        inst: dict[str, Any],
        history: list[dict[str, Any]],
        markers: list[dict[str, Any]],
        new_events: list[dict[str, Any]],
        consumed: list[int],
        engine_state: dict[str, Any],
    ) -> None:
        instance_id = inst["instance_id"]
        now = episode_time(history, new_events, self.clock.utcnow())
        episode = [event(EventType.OrchestratorStarted, now), *markers, *new_events]
        full = history + episode
        spec = self.index.orchestrators.get(inst["name"].lower())
        started = time.perf_counter()
        state: dict[str, Any] | None = None
        error: str | None = None
        if spec is None:
            error = (
                f"The function '{inst['name']}' doesn't exist, is disabled, or is not an "
                "orchestrator function."
            )
        else:
            replay_started = time.perf_counter()
            state, error = await self._replay(spec.call, inst, full)
            self._replay_cost[instance_id] = time.perf_counter() - replay_started
        self.stats["episodes"] += 1
        decisions = Decisions()
        status = "Running"
        output: str | None = None
        custom = inst["custom_status"]
        can_input: tuple[str | None] | None = None
        if state is not None:
            custom = (
                json.dumps(state["customStatus"]) if state.get("customStatus") is not None else None
            )
            if error is None:
                decisions = decide(inst, full, state, engine_state, now, new_events, self.index)
                can_input = decisions.continue_as_new
        if decisions.failure and error is None:
            error = decisions.failure
        failed_message: str | None = None
        if error is not None:
            failed_message = f"Orchestrator function '{inst['name']}' failed: {error}"
            status = "Failed"
            output = json.dumps(failed_message)
        elif can_input is not None:
            status = "ContinuedAsNew"
        elif state is not None and state.get("isDone"):
            status = "Completed"
            output = json.dumps(state.get("output"))
        episode += decisions.events
        episode.append(event(EventType.OrchestratorCompleted, now))
        if status == "Completed":
            episode.append(
                event(
                    EventType.ExecutionCompleted,
                    now,
                    OrchestrationStatus="Completed",
                    Result=output,
                )
            )
        elif status == "Failed":
            episode.append(
                event(
                    EventType.ExecutionCompleted,
                    now,
                    OrchestrationStatus="Failed",
                    Result=output,
                    FailureDetails={"ErrorMessage": failed_message},
                )
            )
        carried: list[dict[str, Any]] = []
        if can_input is not None and spec is not None:
            carried = await self._events_after_continue_as_new(
                spec.call, inst, history, episode[: 1 + len(markers)], new_events
            )
        with self.store.transaction():
            self._check_version(inst)
            self.store.delete_messages(consumed)
            if can_input is not None:
                self._continue_as_new(inst, can_input[0], carried, custom, now)
            else:
                self._apply(
                    inst, history, episode, decisions, engine_state, status, output, custom, now
                )
            if status in ("Completed", "Failed"):
                self._notify_parent(inst, status, output, failed_message, now)
        self.stats["history_events"] += len(episode)
        outcome = "ContinuedAsNew" if can_input is not None else status
        log_invocation(
            inst["name"],
            "orchestrationTrigger",
            started,
            outcome,
            instance=instance_id,
            detail=(failed_message or "")[:300].replace("\n", " "),
        )
        self.wake()

    async def _replay(
        self, handle: Callable[[str], str], inst: dict[str, Any], history: list[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Replay `history` through the orchestrator handle on the orchestrator pool."""
        context = {
            "history": history,
            "instanceId": inst["instance_id"],
            "isReplaying": False,
            "parentInstanceId": inst["parent_instance"],
            "input": inst["input"],
            "upperSchemaVersion": 2,
        }
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._orchestrator_pool, replay, handle, json.dumps(context)
        )

    async def _events_after_continue_as_new(
        self,
        handle: Callable[[str], str],
        inst: dict[str, Any],
        history: list[dict[str, Any]],
        head: list[dict[str, Any]],
        new_events: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """External events of this batch that arrived after the orchestrator continued as new.

        The Durable Task Framework carries such events over to the next execution
        (BehaviorOnContinueAsNew.Carryover). devhost delivers the whole batch at once, so it
        finds the shortest prefix of the batch after which the orchestrator already continues
        as new; the external events after that prefix go to the next execution. Events the old
        execution buffered in earlier episodes are dropped, as with Azure's default
        preserveUnprocessedEvents=false.
        """
        raised_at = [i for i, e in enumerate(new_events) if e["EventType"] == EventType.EventRaised]
        for cut in raised_at:
            state, error = await self._replay(handle, inst, history + head + new_events[:cut])
            if error is None and state is not None and continues_as_new(state):
                return [e for e in new_events[cut:] if e["EventType"] == EventType.EventRaised]
        return []

    def _check_version(self, inst: dict[str, Any]) -> None:
        current = self.store.get_instance(inst["instance_id"])
        if current is None or current["version"] != inst["version"]:
            raise _Conflict(inst["instance_id"])

    def _commit_markers(
        self,
        inst: dict[str, Any],
        history: list[dict[str, Any]],
        markers: list[dict[str, Any]],
        status: str,
    ) -> None:
        self.store.append_history(inst["instance_id"], len(history), markers)
        updated = dict(
            inst, status=status, updated=fmt_time(self.clock.utcnow()), version=inst["version"] + 1
        )
        self.store.put_instance(updated)
        self._cache[inst["instance_id"]] = _Cached(updated["version"], history + markers)

    def _apply(
        self,
        inst: dict[str, Any],
        history: list[dict[str, Any]],
        episode: list[dict[str, Any]],
        decisions: Decisions,
        engine_state: dict[str, Any],
        status: str,
        output: str | None,
        custom: str | None,
        now: datetime,
    ) -> None:
        instance_id = inst["instance_id"]
        execution_id = inst["execution_id"]
        self.store.append_history(instance_id, len(history), episode)
        if status == "Running":
            for task_id, name, input_text in decisions.work:
                self.store.add_work(instance_id, execution_id, task_id, name, input_text)
            for timer_id, fire_at in decisions.timers:
                fired = event(
                    EventType.TimerFired, fire_at, TimerId=timer_id, FireAt=fmt_time(fire_at)
                )
                self.store.add_message(instance_id, execution_id, fired, fire_at.timestamp())
            for timer_id in decisions.cancelled_timers:
                self.store.delete_timer_message(instance_id, execution_id, timer_id)
            for task_id, name, child_id, input_text in decisions.children:
                self._start_child(inst, task_id, name, child_id, input_text, now)
        else:
            # a finished execution's pending timers could only be dropped when they fire
            self.store.delete_execution_messages(instance_id, execution_id)
        updated = dict(
            inst,
            status=status,
            output=output,
            custom_status=custom,
            updated=fmt_time(now),
            engine=json.dumps(engine_state),
            version=inst["version"] + 1,
        )
        self.store.put_instance(updated)
        if status in TERMINAL_STATES:
            self._cache.pop(instance_id, None)
            self._replay_cost.pop(instance_id, None)
            self._ready_since.pop(instance_id, None)
        else:
            self._cache[instance_id] = _Cached(updated["version"], history + episode)

    def _start_child(
        self,
        parent: dict[str, Any],
        task_id: int,
        name: str,
        child_id: str,
        input_text: str | None,
        now: datetime,
    ) -> None:
        try:
            if child_id == parent["instance_id"]:
                raise EngineError(
                    400, f"A sub-orchestration cannot use its parent's instance ID '{child_id}'."
                )
            validate_instance_id(child_id)
            self._create_instance(
                name, child_id, input_text, (parent["instance_id"], parent["execution_id"], task_id)
            )
        except EngineError as exc:
            failed = event(
                EventType.SubOrchestrationInstanceFailed,
                now,
                TaskScheduledId=task_id,
                Reason=str(exc),
                Details="",
            )
            self.store.add_message(parent["instance_id"], parent["execution_id"], failed)

    def _notify_parent(
        self,
        inst: dict[str, Any],
        status: str,
        output: str | None,
        failed_message: str | None,
        now: datetime,
    ) -> None:
        if not inst["parent_instance"]:
            return
        if status == "Completed":
            ev = event(
                EventType.SubOrchestrationInstanceCompleted,
                now,
                TaskScheduledId=inst["parent_task"],
                Result=output,
            )
        else:
            ev = event(
                EventType.SubOrchestrationInstanceFailed,
                now,
                TaskScheduledId=inst["parent_task"],
                Reason=failed_message or f"Sub-orchestration '{inst['name']}' was {status.lower()}",
                Details="",
            )
        self.store.add_message(inst["parent_instance"], inst["parent_execution"], ev)

    def _continue_as_new(
        self,
        inst: dict[str, Any],
        input_text: str | None,
        carried: list[dict[str, Any]],
        custom: str | None,
        now: datetime,
    ) -> None:
        instance_id = inst["instance_id"]
        old_execution = inst["execution_id"]
        execution_id = self._new_id()
        self.store.clear_history(instance_id)
        self.store.delete_execution_messages(instance_id, old_execution)
        updated = dict(
            inst,
            execution_id=execution_id,
            status="Running",
            input=input_text,
            output=None,
            custom_status=custom,
            updated=fmt_time(now),
            engine="{}",
            version=inst["version"] + 1,
        )
        self.store.put_instance(updated)
        started = event(
            EventType.ExecutionStarted, now, Name=inst["name"], Version="", Input=input_text
        )
        if inst["parent_instance"]:
            started["ParentInstance"] = {"InstanceId": inst["parent_instance"]}
        self.store.add_message(instance_id, execution_id, started)
        for ev in carried:
            self.store.add_message(instance_id, None, ev)
        self._cache[instance_id] = _Cached(updated["version"], [])

    def _terminate(self, inst: dict[str, Any], messages: list[Message]) -> None:
        instance_id = inst["instance_id"]
        terminate = next(
            m for m in messages if m.event["EventType"] == EventType.ExecutionTerminated
        )
        with self.store.transaction():
            self._check_version(inst)
            self.store.delete_messages([m.id for m in messages])
            if inst["status"] in TERMINAL_STATES:
                return
            reason = terminate.event.get("Input")
            now = self.clock.utcnow()
            history = self._load_history(inst)
            ended = [
                event(EventType.OrchestratorStarted, now),
                terminate.event,
                event(EventType.OrchestratorCompleted, now),
            ]
            self.store.append_history(instance_id, len(history), ended)
            output = json.dumps(reason)
            self.store.put_instance(
                dict(
                    inst,
                    status="Terminated",
                    output=output,
                    updated=fmt_time(now),
                    version=inst["version"] + 1,
                )
            )
            self.store.db.execute(
                "DELETE FROM messages WHERE instance_id = ? AND execution_id IS NOT NULL",
                (instance_id,),
            )
            self._notify_parent(
                inst, "Terminated", output, f"Instance was terminated: {reason}", now
            )
        self._cache.pop(instance_id, None)
        log_invocation(
            inst["name"],
            "orchestrationTrigger",
            time.perf_counter(),
            "Terminated",
            instance=instance_id,
        )

    # activities --------------------------------------------------------------------------
    async def run_activity(self, item: WorkItem) -> None:
        """Run one work item and commit its completion together with the item's removal."""
        started = time.perf_counter()
        spec = self.index.activities.get(item.name.lower())
        now_result: dict[str, Any]
        try:
            if spec is None:
                raise LookupError(
                    f"The function '{item.name}' doesn't exist, is disabled, or is not an "
                    "activity function."
                )
            value = ActivityTriggerConverter.decode(
                meta.Datum(item.input, "json"), trigger_metadata=None
            )
            result = await self._invoker.call(spec.call, {spec.trigger["name"]: value})
            encoded = ActivityTriggerConverter.encode(result, expected_type=None)
            now_result = event(
                EventType.TaskCompleted,
                self.clock.utcnow(),
                TaskScheduledId=item.task_id,
                Result=encoded.value,
            )
            outcome, detail = "Succeeded", ""
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            now_result = event(
                EventType.TaskFailed,
                self.clock.utcnow(),
                TaskScheduledId=item.task_id,
                Reason=f"Activity function '{item.name}' failed: {type(exc).__name__}: {message}",
                Details="".join(traceback.format_exception(exc)).rstrip(),
            )
            outcome, detail = "Failed", f"{type(exc).__name__}: {message}"[:300]
        try:
            with self.store.transaction():
                if self.store.delete_work(item.id):
                    self.store.add_message(item.instance_id, item.execution_id, now_result)
            self.stats["activities"] += 1
        finally:
            self._busy_work.discard(item.id)
            self._wake_activities.set()
        self._wake_orchestrations.set()
        log_invocation(
            item.name,
            "activityTrigger",
            started,
            outcome,
            instance=item.instance_id,
            detail=detail.replace("\n", " "),
        )


class _Conflict(Exception):
    """The instance changed under an episode (purged or replaced); the episode is abandoned."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(f"instance '{instance_id}' changed while an episode ran; retrying")
