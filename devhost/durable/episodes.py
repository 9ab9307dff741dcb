"""Episodes: every message waiting for one instance, replayed through its orchestrator at once.

An episode appends the batch to the instance's history behind a fresh OrchestratorStarted,
replays the orchestrator through the SDK's own handle on the orchestrator pool, and commits
the new history, status, outgoing messages and activity work in one transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devhost.durable.batch import episode_time, select_events, split_controls
from devhost.durable.cache import HistoryCache
from devhost.durable.decisions import Decisions, continues_as_new, decide
from devhost.durable.history import EventType, event
from devhost.durable.instance import Instance, RuntimeStatus
from devhost.durable.replay import replay
from devhost.durable.store import Store
from devhost.durable.transitions import Outcome, Transitions
from devhost.invoke import log_invocation
from devhost.loader import FunctionIndex, missing_function

log = logging.getLogger("devhost.durable")

_ENDED = (RuntimeStatus.Completed, RuntimeStatus.Failed)


@dataclass(eq=False)
class Episodes:
    """Runs episodes; `replay_cost` keeps each live instance's last replay time in seconds."""

    index: FunctionIndex
    store: Store
    histories: HistoryCache
    transitions: Transitions
    pool: ThreadPoolExecutor
    stats: Counter[str]
    replay_cost: dict[str, float] = field(default_factory=dict, init=False)

    async def run(self, instance_id: str) -> None:
        """Process every visible message of one instance (a no-op when there is none)."""
        instance = self.store.get_instance(instance_id)
        messages = self.store.messages_for(instance_id)
        if not messages:
            return
        if instance is None:
            self._discard([m.id for m in messages])
            log.warning(
                "dropped %d message(s) for unknown instance '%s'", len(messages), instance_id
            )
            return
        if any(m.event["EventType"] == EventType.ExecutionTerminated for m in messages):
            self.transitions.terminate(instance, messages)
            return
        if instance.finished:
            self._discard([m.id for m in messages])
            log.debug(
                "dropped %d message(s) for %s instance '%s'",
                len(messages),
                instance.status,
                instance_id,
            )
            return
        history = self.histories.load(instance)
        markers, deliver, held = split_controls(instance, messages)
        if held is not None:
            with self.store.transaction():
                self.transitions.check_version(instance)
                self.store.hold_messages([m.id for m in held])
                held_ids = {m.id for m in held}
                self.store.delete_messages([m.id for m in messages if m.id not in held_ids])
                self.transitions.suspend(instance, history, markers)
            return
        engine_state = json.loads(instance.engine or "{}")
        new_events, dropped = select_events(instance, history, deliver, engine_state)
        consumed = [m.id for m in messages]
        if not new_events and not markers:
            self._discard(consumed)
            if dropped:
                log.debug("dropped %d duplicate message(s) for '%s'", dropped, instance_id)
            return
        await self._replay_and_commit(
            instance, history, markers, new_events, consumed, engine_state
        )

    def _discard(self, message_ids: list[int]) -> None:
        with self.store.transaction():
            self.store.delete_messages(message_ids)

    async def _replay_and_commit(
        self,
        instance: Instance,
        history: list[dict[str, Any]],
        markers: list[dict[str, Any]],
        new_events: list[dict[str, Any]],
        consumed: list[int],
        engine_state: dict[str, Any],
    ) -> None:
        instance_id = instance.instance_id
        now = episode_time(history, new_events, self.store.clock.utcnow())
        episode = [event(EventType.OrchestratorStarted, now), *markers, *new_events]
        full = history + episode
        spec = self.index.orchestrators.get(instance.name.lower())
        started = time.perf_counter()
        state: dict[str, Any] | None = None
        error: str | None = None
        if spec is None:
            error = missing_function(instance.name, "orchestrator")
        else:
            replay_started = time.perf_counter()
            state, error = await self._replay(spec.call, instance, full)
            self.replay_cost[instance_id] = time.perf_counter() - replay_started
        self.stats["episodes"] += 1
        decisions = Decisions()
        custom = instance.custom_status
        if state is not None:
            custom = (
                json.dumps(state["customStatus"]) if state.get("customStatus") is not None else None
            )
            if error is None:
                decisions = decide(instance, full, state, engine_state, now, new_events, self.index)
                error = decisions.failure
        can_input = decisions.continue_as_new
        outcome = _outcome(instance.name, state, error, can_input is not None, custom)
        episode += decisions.events
        episode.append(event(EventType.OrchestratorCompleted, now))
        if outcome.status in _ENDED:
            episode.append(_execution_completed(outcome, now))
        carried: list[dict[str, Any]] = []
        if can_input is not None and spec is not None:
            carried = await self._events_after_continue_as_new(
                spec.call, instance, history, episode[: 1 + len(markers)], new_events
            )
        with self.store.transaction():
            self.transitions.check_version(instance)
            self.store.delete_messages(consumed)
            if can_input is not None:
                self.transitions.continue_as_new(instance, can_input[0], carried, custom, now)
            else:
                self.transitions.apply(
                    instance, history, episode, decisions, engine_state, outcome, now
                )
            if outcome.status in _ENDED:
                self.transitions.notify_parent(instance, outcome, now)
        if outcome.status in _ENDED:
            self.replay_cost.pop(instance_id, None)
        self.stats["history_events"] += len(episode)
        log_invocation(
            instance.name,
            "orchestrationTrigger",
            started,
            outcome.status,
            instance=instance_id,
            detail=(outcome.failure or "")[:300].replace("\n", " "),
        )

    async def _replay(
        self, handle: Callable[[str], str], instance: Instance, history: list[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Replay `history` through the orchestrator handle on the orchestrator pool."""
        context = {
            "history": history,
            "instanceId": instance.instance_id,
            "isReplaying": False,
            "parentInstanceId": instance.parent.instance_id if instance.parent else None,
            "input": instance.input,
            "upperSchemaVersion": 2,
        }
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, replay, handle, json.dumps(context))

    async def _events_after_continue_as_new(
        self,
        handle: Callable[[str], str],
        instance: Instance,
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
            state, error = await self._replay(handle, instance, history + head + new_events[:cut])
            if error is None and state is not None and continues_as_new(state):
                return [e for e in new_events[cut:] if e["EventType"] == EventType.EventRaised]
        return []


def _outcome(
    name: str,
    state: dict[str, Any] | None,
    error: str | None,
    continues: bool,
    custom_status: str | None,
) -> Outcome:
    """The status a replay leads to: an error fails it, else continue-as-new, done or running."""
    if error is not None:
        failure = f"Orchestrator function '{name}' failed: {error}"
        return Outcome(RuntimeStatus.Failed, json.dumps(failure), custom_status, failure)
    if continues:
        return Outcome(RuntimeStatus.ContinuedAsNew, None, custom_status)
    if state is not None and state.get("isDone"):
        return Outcome(RuntimeStatus.Completed, json.dumps(state.get("output")), custom_status)
    return Outcome(RuntimeStatus.Running, None, custom_status)


def _execution_completed(outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The ExecutionCompleted event of a Completed or Failed execution."""
    fields: dict[str, Any] = {"OrchestrationStatus": outcome.status.value, "Result": outcome.output}
    if outcome.status == RuntimeStatus.Failed:
        fields["FailureDetails"] = {"ErrorMessage": outcome.failure}
    return event(EventType.ExecutionCompleted, now, **fields)
