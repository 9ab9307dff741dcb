"""The orchestration engine: one facade over instance management, episodes and activities.

`Engine` wires the parts together and wakes the dispatch loops when work arrives:
`management` (the client's requests), `episodes` (replay and commit, with `transitions`
holding what a commit writes), `worker` (activities) and `dispatch` (the loops).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devhost.config import HostConfig
from devhost.durable.cache import HistoryCache
from devhost.durable.clock import Clock
from devhost.durable.dispatch import Dispatcher
from devhost.durable.episodes import Episodes
from devhost.durable.history import EventType
from devhost.durable.instance import Instance, Parent
from devhost.durable.management import MAX_INSTANCE_ID_LENGTH, EngineError, InstanceManager
from devhost.durable.store import Store, WorkItem
from devhost.durable.transitions import Transitions
from devhost.durable.worker import ActivityWorker
from devhost.invoke import Invoker
from devhost.loader import FunctionIndex

__all__ = ["MAX_INSTANCE_ID_LENGTH", "Engine", "EngineError"]


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
        self.stats: Counter[str] = Counter()
        self._orchestrator_pool = ThreadPoolExecutor(
            config.max_orchestrators, thread_name_prefix="orchestrator"
        )
        self._activity_pool = ThreadPoolExecutor(
            config.max_activities, thread_name_prefix="activity"
        )
        histories = HistoryCache(store)
        self._instances = InstanceManager(config, index, store, histories, new_id or _uuid_hex)
        self._episodes = Episodes(
            index,
            store,
            histories,
            Transitions(store, histories, self._instances),
            self._orchestrator_pool,
            self.stats,
        )
        self._worker = ActivityWorker(index, store, Invoker(self._activity_pool), self.stats)
        self._dispatch = Dispatcher(
            config, store, self.run_episode, self.run_activity, self._episodes.replay_cost
        )

    # lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Run both dispatch loops until cancelled."""
        await self._dispatch.run()

    def close(self) -> None:
        self._dispatch.cancel()
        self._orchestrator_pool.shutdown(wait=False, cancel_futures=True)
        self._activity_pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        self._dispatch.orchestrations.set()
        self._dispatch.activities.set()

    # instance management (called by the HTTP API) ------------------------------------------
    def start_instance(
        self,
        name: str,
        instance_id: str | None,
        input_text: str | None,
        *,
        parent: Parent | None = None,
    ) -> str:
        """Create (or replace a finished) instance and queue its ExecutionStarted message."""
        instance_id = self._instances.start(name, instance_id, input_text, parent)
        self._dispatch.orchestrations.set()
        return instance_id

    def instance(self, instance_id: str) -> Instance:
        """The instance record; EngineError 404 when there is none."""
        return self._instances.require(instance_id)

    def raise_event(self, instance_id: str, name: str, data_text: str | None) -> None:
        self._instances.raise_event(instance_id, name, data_text)
        self._dispatch.orchestrations.set()

    def control(self, instance_id: str, kind: EventType, reason: str | None) -> None:
        """Queue terminate, suspend or resume; 404 for unknown and 410 for finished instances."""
        self._instances.control(instance_id, kind, reason)
        self._dispatch.orchestrations.set()

    def purge(self, instance_ids: list[str]) -> int:
        return self._instances.purge(instance_ids)

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        return self.store.load_history(instance_id)

    # episodes and activities -------------------------------------------------------------
    async def run_episode(self, instance_id: str) -> None:
        """Process every visible message of one instance (a no-op when there is none).

        The dispatch loop runs it guarded and at most once per instance at a time; the
        in-process harness (devhost.inprocess) calls it directly, one episode at a time.
        """
        await self._episodes.run(instance_id)
        self.wake()

    async def run_activity(self, item: WorkItem) -> None:
        """Run one work item and commit its completion together with the item's removal."""
        await self._worker.run(item)
        self._dispatch.orchestrations.set()
