"""How long a store call may wait: the adapter's own timeout, or less on a request path.

An activity may wait out a locked SQLite file or a throttled Cosmos DB for its adapter's full
timeout (30 s) before its durable retry takes over. An HTTP caller cannot: GitHub gives up
after 10 s and does not redeliver by itself. So a request path gives its store calls a budget
(`triggers.http.guarded` gives every HTTP trigger one):

    with store_budget(1.5):
        ...   # the store calls in here wait 1.5 s in all, then fail StoreUnavailable

Only time spent inside store calls counts (each adapter call runs `with spending():`), not the
request's own work, so a request that validates a large spec for a second still gets its
store calls. The budget is a context variable: it follows the request into
`asyncio.to_thread`, and never reaches activities, timers or Event Grid triggers, which keep
the adapters' timeouts. Once it is spent, a call still runs but does not wait at all (a
locked SQLite file is `StoreUnavailable` at once).
"""

import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar


class _Budget:
    """Seconds of store time left to one request; shared by the threads it starts."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self._lock = threading.Lock()

    def spend(self, seconds: float) -> None:
        with self._lock:
            self.left -= seconds


_BUDGET: ContextVar[_Budget | None] = ContextVar("arcwave_store_budget", default=None)


@contextlib.contextmanager
def store_budget(seconds: float) -> Iterator[None]:
    """Give the store calls of the block (and of the threads it starts with
    `asyncio.to_thread`) `seconds` of waiting in all; an enclosing budget still holds."""
    if _BUDGET.get() is not None:
        yield
        return
    token = _BUDGET.set(_Budget(seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def on_budget() -> bool:
    """Whether store calls here run on a request's budget."""
    return _BUDGET.get() is not None


def time_left(default: float) -> float:
    """Seconds a store call may wait: `default` (the adapter's own timeout) off a request
    path, else what is left of the request's budget (never more than `default`, never < 0)."""
    budget = _BUDGET.get()
    if budget is None:
        return default
    return max(0.0, min(default, budget.left))


@contextlib.contextmanager
def spending() -> Iterator[None]:
    """Count the time of one store call against the request's budget (if any)."""
    budget = _BUDGET.get()
    started = time.monotonic()
    try:
        yield
    finally:
        if budget is not None:
            budget.spend(time.monotonic() - started)
