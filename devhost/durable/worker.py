"""The activity worker: one work item run through its function and completed in its instance.

The result and the removal of the work item commit together, so an activity whose result was
not committed runs again after a restart (at-least-once); a completion already in history is
dropped by the next episode (exactly-once state transitions).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devhost.durable.history import EventType, event
from devhost.durable.store import Store, WorkItem
from devhost.invoke import Invoker, log_invocation
from devhost.loader import FunctionIndex, missing_function


@dataclass(eq=False)
class ActivityWorker:
    """Runs activity functions through `invoker` (its pool is sized by host.json)."""

    index: FunctionIndex
    store: Store
    invoker: Invoker
    stats: Counter[str]

    async def run(self, item: WorkItem) -> None:
        """Run one work item and commit its completion together with the item's removal."""
        started = time.perf_counter()
        try:
            completion = await self._call(item)
            outcome, detail = "Succeeded", ""
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            completion = event(
                EventType.TaskFailed,
                self.store.clock.utcnow(),
                TaskScheduledId=item.task_id,
                Reason=f"Activity function '{item.name}' failed: {type(exc).__name__}: {message}",
                Details="".join(traceback.format_exception(exc)).rstrip(),
            )
            outcome, detail = "Failed", f"{type(exc).__name__}: {message}"[:300]
        with self.store.transaction():
            if self.store.delete_work(item.id):
                self.store.add_message(item.instance_id, item.execution_id, completion)
        self.stats["activities"] += 1
        log_invocation(
            item.name,
            "activityTrigger",
            started,
            outcome,
            instance=item.instance_id,
            detail=detail.replace("\n", " "),
        )

    async def _call(self, item: WorkItem) -> dict[str, Any]:
        """The TaskCompleted of a successful call; the function's exception otherwise."""
        spec = self.index.activities.get(item.name.lower())
        if spec is None:
            raise LookupError(missing_function(item.name, "activity"))
        value = ActivityTriggerConverter.decode(
            meta.Datum(item.input, "json"), trigger_metadata=None
        )
        result = await self.invoker.call(spec.call, {spec.trigger["name"]: value})
        encoded = ActivityTriggerConverter.encode(result, expected_type=None)
        return event(
            EventType.TaskCompleted,
            self.store.clock.utcnow(),
            TaskScheduledId=item.task_id,
            Result=encoded.value,
        )
