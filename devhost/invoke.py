"""Calling user functions the way the Python worker does, with one log line per invocation:
DEBUG for the routine ones, WARNING (with the error) for a failure.

Sync functions run on a thread pool (sized like PYTHON_THREADPOOL_THREAD_COUNT); `async def`
functions are awaited on the host's event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("devhost.invocations")
_LEVELS = {"Failed": logging.WARNING, "Terminated": logging.INFO}
"""The level of an invocation's line by its outcome; DEBUG for any other."""


class Invoker:
    """Runs user callables and writes the per-invocation log line."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor

    async def call(
        self,
        fn: Callable[..., Any],
        kwargs: dict[str, Any],
        *,
        executor: ThreadPoolExecutor | None = None,
    ) -> Any:
        """Call `fn(**kwargs)`, awaiting coroutines and running sync code on a pool thread."""
        if asyncio.iscoroutinefunction(fn):
            return await fn(**kwargs)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            executor or self.executor, functools.partial(fn, **kwargs)
        )
        if asyncio.iscoroutine(result):
            result = await result
        return result


def log_invocation(
    function: str,
    trigger: str,
    started: float,
    outcome: str,
    *,
    instance: str | None = None,
    detail: str = "",
) -> None:
    """Write the single line that summarises one invocation: WARNING when it failed, INFO
    when an orchestration was terminated, DEBUG otherwise (a rollout calls its activities
    every poll: at INFO they would bury everything else)."""
    ms = (time.perf_counter() - started) * 1000
    parts = [f"function={function}", f"trigger={trigger}"]
    if instance:
        parts.append(f"instance={instance}")
    parts += [f"duration_ms={ms:.1f}", f"outcome={outcome}"]
    if detail:
        parts.append(f"detail={detail}")
    log.log(_LEVELS.get(outcome, logging.DEBUG), " ".join(parts))
