"""Writes to many clusters at once, each subscription with its own workers.

ARM paces writes per subscription, and the fleet gateway waits for a token of the cluster's
subscription before each write. With one pool for a whole batch, the workers of a
subscription whose bucket is empty would sit in that wait while another subscription's
clusters, whose bucket is full, wait behind them in the pool's queue. Here every subscription
gets its own pool of up to `max_workers`: a subscription that waits for tokens holds only its
own clusters.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import TypeVar

T = TypeVar("T")


def per_group(
    items: Sequence[str],
    work: Callable[[str], T],
    group: Callable[[str], str],
    max_workers: int,
    *,
    name: str = "arcwave-write",
) -> list[T]:
    """`work(item)` for every item, in parallel: up to `max_workers` at a time within each
    `group(item)`, the groups side by side. The results come in input order; the first
    error, in input order, is raised once every item has run."""
    if not items:
        return []
    members: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        members[group(item)].append(index)
    futures: list[Future[T] | None] = [None] * len(items)
    with ExitStack() as pools:
        for number, indices in enumerate(members.values()):
            workers = max(1, min(max_workers, len(indices)))
            pool = pools.enter_context(
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{name}-{number}")
            )
            for index in indices:
                futures[index] = pool.submit(work, items[index])
    return [future.result() for future in futures if future is not None]
