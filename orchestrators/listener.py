"""The Listener: every yield of an orchestrator, raced with the events it listens for.

An orchestrator that does anything between two waits for the same event must not leave that
event without an open waiter: the Python SDK hands an event raised while nobody waits to every
later waiter for its name (azure-functions-durable-python#507), which turns a wait loop into a
busy loop. So every yield goes through the listener, which races it with its waiters and keeps
the payloads that arrive in an inbox.
"""

from collections import defaultdict
from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase, TaskState

Step = Generator[Any, Any, Any]


class Listener:
    """Keeps one waiter per event name open at every yield, and collects what arrives."""

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
