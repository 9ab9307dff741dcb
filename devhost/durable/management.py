"""Instance management: what the Durable client asks of the engine, and the ids it may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devhost.config import HostConfig
from devhost.durable.cache import HistoryCache
from devhost.durable.history import EventType, event, fmt_time
from devhost.durable.instance import RUNNING, Instance, Parent, RuntimeStatus
from devhost.durable.store import Store
from devhost.loader import FunctionIndex, missing_function

#: The Durable Task Scheduler accepts instance ids of at most 100 printable characters
#: (learn.microsoft.com, "Durable Task Scheduler" overview, limits). The Azure Storage backend
#: allows 256, but an id that only works there breaks on the scheduler, so devhost refuses it.
MAX_INSTANCE_ID_LENGTH = 100


class EngineError(Exception):
    """A request the engine refuses; `status` is the HTTP status the Durable API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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


@dataclass(eq=False)
class InstanceManager:
    """Creates instances and queues the client's events and controls for their episodes.

    Callers wake the dispatch loop afterwards; `create` also serves sub-orchestrations, inside
    the transaction of the parent's episode.
    """

    config: HostConfig
    index: FunctionIndex
    store: Store
    histories: HistoryCache
    new_id: Callable[[], str]

    def start(
        self, name: str, instance_id: str | None, input_text: str | None, parent: Parent | None
    ) -> str:
        """Create (or replace a finished) instance and queue its ExecutionStarted message."""
        if name.lower() not in self.index.orchestrators:
            raise EngineError(
                400,
                f"{missing_function(name, 'orchestrator')} Additional info: check the "
                "orchestration name passed to start_new.",
            )
        instance_id = instance_id or self.new_id()
        validate_instance_id(instance_id)
        with self.store.transaction():
            self.create(name, instance_id, input_text, parent)
        return instance_id

    def create(
        self, name: str, instance_id: str, input_text: str | None, parent: Parent | None
    ) -> None:
        """Write a Pending instance and its ExecutionStarted, in the caller's transaction."""
        existing = self.store.get_instance(instance_id)
        if (
            existing
            and existing.status in RUNNING
            and (self.config.overridable_states != "AnyState")
        ):
            raise EngineError(
                500,
                f"An Orchestration instance with the status {existing.status} already exists "
                f"with the instance ID '{instance_id}'. Wait for it to finish, terminate it, or "
                "start the new orchestration with another instance ID.",
            )
        if existing:
            self.store.delete_instance(instance_id)
            self.histories.forget(instance_id)
        now = self.store.clock.utcnow()
        execution_id = self.new_id()
        self.store.put_instance(
            Instance(
                instance_id=instance_id,
                name=name,
                execution_id=execution_id,
                status=RuntimeStatus.Pending,
                input=input_text,
                created=fmt_time(now),
                updated=fmt_time(now),
                parent=parent,
            )
        )
        started = event(EventType.ExecutionStarted, now, Name=name, Version="", Input=input_text)
        if parent:
            started["ParentInstance"] = {"InstanceId": parent.instance_id}
        self.store.add_message(instance_id, execution_id, started)

    def require(self, instance_id: str) -> Instance:
        """The instance; EngineError 404 when there is none."""
        instance = self.store.get_instance(instance_id)
        if instance is None:
            raise EngineError(404, f"No instance with ID '{instance_id}' was found.")
        return instance

    def raise_event(self, instance_id: str, name: str, data_text: str | None) -> None:
        self._require_unfinished(instance_id, "it can no longer take events")
        with self.store.transaction():
            self.store.add_message(
                instance_id,
                None,
                event(EventType.EventRaised, self.store.clock.utcnow(), Name=name, Input=data_text),
            )

    def control(self, instance_id: str, kind: EventType, reason: str | None) -> None:
        """Queue terminate, suspend or resume; 404 for unknown and 410 for finished instances."""
        self._require_unfinished(instance_id, "it cannot be changed anymore")
        field_name = "Input" if kind == EventType.ExecutionTerminated else "Reason"
        with self.store.transaction():
            control = event(kind, self.store.clock.utcnow())
            control[field_name] = reason
            self.store.add_message(instance_id, None, control)
            if kind in (EventType.ExecutionTerminated, EventType.ExecutionResumed):
                self.store.release_messages(instance_id)

    def purge(self, instance_ids: list[str]) -> int:
        with self.store.transaction():
            for instance_id in instance_ids:
                self.store.delete_instance(instance_id)
                self.histories.forget(instance_id)
        return len(instance_ids)

    def _require_unfinished(self, instance_id: str, refusal: str) -> None:
        """404 for an unknown instance, 410 (with `refusal`) for a finished one."""
        instance = self.require(instance_id)
        if instance.finished:
            raise EngineError(410, f"Instance '{instance_id}' is {instance.status}; {refusal}.")
