"""What an episode commits: the next instance record, its history, and the work it queues.

Each method runs inside the episode's transaction (except `terminate`, which is a whole
episode), so the record, the history and every message or work item move together.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devhost.durable.cache import HistoryCache
from devhost.durable.decisions import Decisions
from devhost.durable.history import EventType, event, fmt_time
from devhost.durable.instance import Instance, Parent, RuntimeStatus
from devhost.durable.management import EngineError, InstanceManager, validate_instance_id
from devhost.durable.store import Message, Store
from devhost.invoke import log_invocation

Events = list[dict[str, Any]]


class VersionConflict(Exception):
    """The instance changed under an episode (purged or replaced); the episode is abandoned."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(f"instance '{instance_id}' changed while an episode ran; retrying")


@dataclass(frozen=True)
class Outcome:
    """How an episode leaves its execution; `failure` is the message of a failed one."""

    status: RuntimeStatus
    output: str | None
    custom_status: str | None
    failure: str | None = None


@dataclass(eq=False)
class Transitions:
    """Commits episode results for the store's instances."""

    store: Store
    histories: HistoryCache
    instances: InstanceManager

    def check_version(self, instance: Instance) -> None:
        """VersionConflict unless the stored record is still the one the episode started from."""
        current = self.store.get_instance(instance.instance_id)
        if current is None or current.version != instance.version:
            raise VersionConflict(instance.instance_id)

    def suspend(self, instance: Instance, history: Events, markers: Events) -> None:
        """Append the batch's suspend/resume markers, ending suspended, without a replay."""
        self.store.append_history(instance.instance_id, len(history), markers)
        updated = instance.revised(
            fmt_time(self.store.clock.utcnow()), status=RuntimeStatus.Suspended
        )
        self.store.put_instance(updated)
        self.histories.keep(updated, history + markers)

    def apply(
        self,
        instance: Instance,
        history: Events,
        episode: Events,
        decisions: Decisions,
        engine_state: dict[str, Any],
        outcome: Outcome,
        now: datetime,
    ) -> None:
        """Commit a replayed episode that did not continue as new."""
        instance_id = instance.instance_id
        execution_id = instance.execution_id
        self.store.append_history(instance_id, len(history), episode)
        if outcome.status == RuntimeStatus.Running:
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
                self._start_child(instance, task_id, name, child_id, input_text, now)
        else:
            # a finished execution's pending timers could only be dropped when they fire
            self.store.delete_execution_messages(instance_id, execution_id)
        updated = instance.revised(
            fmt_time(now),
            status=outcome.status,
            output=outcome.output,
            custom_status=outcome.custom_status,
            engine=json.dumps(engine_state),
        )
        self.store.put_instance(updated)
        if updated.finished:
            self.histories.forget(instance_id)
        else:
            self.histories.keep(updated, history + episode)

    def continue_as_new(
        self,
        instance: Instance,
        input_text: str | None,
        carried: Events,
        custom_status: str | None,
        now: datetime,
    ) -> None:
        """Start the next execution: fresh history, new execution id, carried-over events."""
        instance_id = instance.instance_id
        self.store.clear_history(instance_id)
        self.store.delete_execution_messages(instance_id, instance.execution_id)
        updated = instance.revised(
            fmt_time(now),
            execution_id=self.instances.new_id(),
            status=RuntimeStatus.Running,
            input=input_text,
            output=None,
            custom_status=custom_status,
            engine="{}",
        )
        self.store.put_instance(updated)
        started = event(
            EventType.ExecutionStarted, now, Name=instance.name, Version="", Input=input_text
        )
        if instance.parent:
            started["ParentInstance"] = {"InstanceId": instance.parent.instance_id}
        self.store.add_message(instance_id, updated.execution_id, started)
        for ev in carried:
            self.store.add_message(instance_id, None, ev)
        self.histories.keep(updated, [])

    def notify_parent(self, instance: Instance, outcome: Outcome, now: datetime) -> None:
        """Complete or fail the parent's sub-orchestration task (nothing for a top instance)."""
        parent = instance.parent
        if parent is None:
            return
        if outcome.status == RuntimeStatus.Completed:
            ev = event(
                EventType.SubOrchestrationInstanceCompleted,
                now,
                TaskScheduledId=parent.task_id,
                Result=outcome.output,
            )
        else:
            reason = outcome.failure or (
                f"Sub-orchestration '{instance.name}' was {outcome.status.lower()}"
            )
            ev = _child_failed(parent.task_id, reason, now)
        self.store.add_message(parent.instance_id, parent.execution_id, ev)

    def terminate(self, instance: Instance, messages: list[Message]) -> None:
        """End the execution on its ExecutionTerminated; the batch's other messages go with it."""
        instance_id = instance.instance_id
        terminate = next(
            m for m in messages if m.event["EventType"] == EventType.ExecutionTerminated
        )
        with self.store.transaction():
            self.check_version(instance)
            self.store.delete_messages([m.id for m in messages])
            if instance.finished:
                return
            reason = terminate.event.get("Input")
            now = self.store.clock.utcnow()
            history = self.histories.load(instance)
            ended = [
                event(EventType.OrchestratorStarted, now),
                terminate.event,
                event(EventType.OrchestratorCompleted, now),
            ]
            self.store.append_history(instance_id, len(history), ended)
            outcome = Outcome(
                RuntimeStatus.Terminated,
                json.dumps(reason),
                instance.custom_status,
                f"Instance was terminated: {reason}",
            )
            self.store.put_instance(
                instance.revised(fmt_time(now), status=outcome.status, output=outcome.output)
            )
            self.store.delete_bound_messages(instance_id)
            self.notify_parent(instance, outcome, now)
        self.histories.forget(instance_id)
        log_invocation(
            instance.name,
            "orchestrationTrigger",
            time.perf_counter(),
            outcome.status,
            instance=instance_id,
        )

    def _start_child(
        self,
        parent: Instance,
        task_id: int,
        name: str,
        child_id: str,
        input_text: str | None,
        now: datetime,
    ) -> None:
        """Create a sub-orchestration; a refused one fails the parent's task instead."""
        try:
            if child_id == parent.instance_id:
                raise EngineError(
                    400, f"A sub-orchestration cannot use its parent's instance ID '{child_id}'."
                )
            validate_instance_id(child_id)
            self.instances.create(
                name, child_id, input_text, Parent(parent.instance_id, parent.execution_id, task_id)
            )
        except EngineError as exc:
            failed = _child_failed(task_id, str(exc), now)
            self.store.add_message(parent.instance_id, parent.execution_id, failed)


def _child_failed(task_id: int, reason: str, now: datetime) -> dict[str, Any]:
    """The SubOrchestrationInstanceFailed that ends the parent's task `task_id`."""
    return event(
        EventType.SubOrchestrationInstanceFailed,
        now,
        TaskScheduledId=task_id,
        Reason=reason,
        Details="",
    )
