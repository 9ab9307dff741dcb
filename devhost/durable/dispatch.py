"""The dispatch loops: which instance runs an episode and which work item runs next, and when.

One loop starts episodes (at most one per instance at a time, up to
maxConcurrentOrchestratorFunctions), the other starts activities (up to
maxConcurrentActivityFunctions). Both sleep until woken or until the next timer is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from devhost.config import HostConfig
from devhost.durable.store import Store, WorkItem
from devhost.durable.transitions import VersionConflict

log = logging.getLogger("devhost.durable")

_RETRY_BACKOFF_S = 5.0
COALESCE_MAX_S = 0.25


@dataclass(eq=False)
class Dispatcher:
    """Runs `run_episode` and `run_activity` as the store's messages and work items demand.

    `replay_cost` is each instance's last replay time in seconds, which paces its episodes.
    """

    config: HostConfig
    store: Store
    run_episode: Callable[[str], Awaitable[None]]
    run_activity: Callable[[WorkItem], Awaitable[None]]
    replay_cost: Mapping[str, float]
    #: Set to wake the loop that starts episodes, or the one that starts activities.
    orchestrations: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    activities: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _busy_instances: set[str] = field(default_factory=set, init=False)
    _ready_since: dict[str, float] = field(default_factory=dict, init=False)
    _backoff: dict[str, float] = field(default_factory=dict, init=False)
    _busy_work: set[int] = field(default_factory=set, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def run(self) -> None:
        """Run both loops until cancelled."""
        await asyncio.gather(self._orchestration_loop(), self._activity_loop())

    def cancel(self) -> None:
        """Cancel the episodes and activities still running."""
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait(self, wake: asyncio.Event, timeout: float) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # races with the event being set, and the loop would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await wake.wait()

    async def _orchestration_loop(self) -> None:
        while True:
            self.orchestrations.clear()
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
                timeout = min(timeout, max(0.01, nxt - self.store.clock.time()))
            await self._wait(self.orchestrations, timeout)

    def _coalesce_wait(self, instance_id: str, now: float) -> float:
        """Seconds to hold an instance back so more completions join its next episode.

        While an instance still has activities in flight, devhost waits up to the duration of
        its previous replay (at most COALESCE_MAX_S) before running the next episode, so a
        large fan-out is not replayed once per completion. Nothing waits when no work is out.
        """
        cost = self.replay_cost.get(instance_id)
        if not cost:
            return 0.0
        first = self._ready_since.setdefault(instance_id, now)
        remaining = first + min(COALESCE_MAX_S, cost) - now
        if remaining <= 0 or not self.store.has_work(instance_id):
            return 0.0
        return remaining

    async def _episode_guarded(self, instance_id: str) -> None:
        try:
            await self.run_episode(instance_id)
        except VersionConflict as exc:
            log.debug("%s", exc)
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
            self.orchestrations.set()

    async def _activity_loop(self) -> None:
        while True:
            self.activities.clear()
            capacity = self.config.max_activities - len(self._busy_work)
            if capacity > 0:
                for item in self.store.pending_work(self._busy_work, capacity):
                    self._busy_work.add(item.id)
                    self._spawn(self._activity_tracked(item))
            await self._wait(self.activities, 1.0)

    async def _activity_tracked(self, item: WorkItem) -> None:
        try:
            await self.run_activity(item)
        finally:
            self._busy_work.discard(item.id)
            self.activities.set()
