"""What the orchestrators share: names, retry policy, and the small steps they all take.

Everything here is deterministic: time comes from the context, waits are durable timers,
and every effect is a yielded activity call.
"""

from collections import defaultdict
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any, TypedDict

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase, TaskState

from activities.contracts import READ_CONTROL, RECORD, Control, ProgressRecord, RolloutRef

TRACK = "track_orchestrator"
ROLLOUT = "rollout_orchestrator"
WAVE = "wave_orchestrator"

CONTROL_EVENT = "control"
"""Raised to a rollout and its running wave when an operator changes the rollout's control."""
HEALTH_EVENT = "health"
"""Raised to a wave when Flux reports on one of its clusters: look again now."""
REVISION_EVENT = "revision"
"""Raised to a track orchestrator with a new `RevisionRequest`."""

ACTIVITY_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=2000, max_number_of_attempts=5
)
"""Activities are idempotent, so a failed attempt (ARM or store briefly unavailable) is retried."""

IDLE_WAIT = timedelta(hours=1)
"""How long a paused rollout sleeps between looks at its control when no event wakes it."""

Step = Generator[Any, Any, Any]


class RevisionRequest(TypedDict):
    """A revision for a track to roll, as triggers send it."""

    rolloutId: str
    revision: str
    trigger: dict[str, str]
    supersede: str
    """The track's policy when the request was made: `queue` or `restart`."""
    pollSeconds: float
    clusters: list[str] | None
    """A catch-up: bring only these clusters to `revision` (the track's last good)."""


def track_instance(track: str) -> str:
    return f"track:{track}"


def wave_instance(rollout_id: str, wave: str, *, rollback: bool = False) -> str:
    return f"{rollout_id}:{wave}" + (":rollback" if rollback else "")


class Listener:
    """Keeps one waiter per event name open at every yield, and collects what arrives.

    An orchestrator that does anything between two waits for the same event must not leave
    that event without an open waiter: the Python SDK hands an event raised while nobody
    waits to every later waiter for its name (azure-functions-durable-python#507), which turns
    a wait loop into a busy loop. So every yield goes through the listener, which races it
    with its waiters and keeps the payloads that arrive in an inbox.
    """

    def __init__(self, context: df.DurableOrchestrationContext, *names: str) -> None:
        self.context = context
        self.waiters = {name: context.wait_for_external_event(name) for name in names}
        self.inbox: dict[str, list[Any]] = defaultdict(list)

    def call(self, task: TaskBase) -> Step:
        """Wait for `task` while listening; its result, or its exception raised."""
        while not task.is_completed:
            yield from self.race(task)
        if task.state is TaskState.FAILED:
            raise task.result
        return task.result

    def race(self, task: TaskBase) -> Step:
        """Wait until `task` completes or an event arrives; True when `task` is done."""
        if not task.is_completed:
            yield self.context.task_any([task, *self.waiters.values()])
            self._collect()
        return task.is_completed

    def listen(self) -> Step:
        """Wait until any event arrives."""
        yield self.context.task_any(list(self.waiters.values()))
        self._collect()

    def sleep(self, until: datetime, *, wake_on: tuple[str, ...]) -> Step:
        """Sleep on a durable timer; True when one of `wake_on` arrived first."""
        if any(self.inbox[name] for name in wake_on):
            return True
        timer = self.context.create_timer(until)
        while True:
            fired = yield from self.race(timer)
            if fired:
                return False
            if any(self.inbox[name] for name in wake_on):
                timer.cancel()
                return True

    def take(self, name: str) -> list[Any]:
        """Everything that arrived for `name` since the last take, oldest first."""
        arrived, self.inbox[name] = self.inbox[name], []
        return arrived

    def _collect(self) -> None:
        for name, waiter in list(self.waiters.items()):
            if waiter.is_completed:
                self.inbox[name].append(waiter.result)
                self.waiters[name] = self.context.wait_for_external_event(name)


def record(listener: Listener, step: ProgressRecord) -> Step:
    """Write one step of a rollout down; returns the rollout's control block."""
    task = listener.context.call_activity_with_retry(RECORD, ACTIVITY_RETRY, step)
    control: Control = yield from listener.call(task)
    return control


def wait_for_control(listener: Listener, ref: RolloutRef, until: datetime | None = None) -> Step:
    """Sleep until an operator changes something (or `until`); the fresh control block, or
    None when `until` passed first."""
    listener.take(CONTROL_EVENT)
    wake = until or listener.context.current_utc_datetime + IDLE_WAIT
    woke = yield from listener.sleep(wake, wake_on=(CONTROL_EVENT,))
    if not woke and until is not None:
        return None
    control: Control = yield from read_control(listener, ref)
    return control


def read_control(listener: Listener, ref: RolloutRef) -> Step:
    task = listener.context.call_activity_with_retry(READ_CONTROL, ACTIVITY_RETRY, ref)
    control: Control = yield from listener.call(task)
    return control
