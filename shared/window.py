"""The in-flight window of a wave: which clusters to write next. Pure and deterministic.

A cluster is in flight from its write until its verdict (Healthy, Failed, Skipped). A wave
keeps at most `max_in_flight` of its clusters in flight, and at most `max_per_site` of one
site; when a slot frees, the next pending cluster in write order whose site has room is
written. A cluster without a site is a site of its own. Once the wave's failures exceed its
budget nothing more is written (fail fast).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar


class Slotted(Protocol):
    @property
    def cluster_id(self) -> str: ...

    @property
    def site(self) -> str | None: ...


S = TypeVar("S", bound=Slotted)


@dataclass(frozen=True)
class Window:
    max_in_flight: int
    max_per_site: int | None = None


def site_key(cluster: Slotted) -> str:
    return f"site:{cluster.site}" if cluster.site is not None else f"id:{cluster.cluster_id}"


def next_to_write(pending: Sequence[S], in_flight: Iterable[Slotted], window: Window) -> list[S]:
    """The clusters of `pending` (in write order) to write now so that the window stays full
    without being exceeded."""
    busy = Counter(site_key(c) for c in in_flight)
    room = window.max_in_flight - sum(busy.values())
    chosen: list[S] = []
    for cluster in pending:
        if room <= 0:
            break
        key = site_key(cluster)
        if window.max_per_site is not None and busy[key] >= window.max_per_site:
            continue
        chosen.append(cluster)
        busy[key] += 1
        room -= 1
    return chosen


def budget_spent(failed: int, allowed: int) -> bool:
    """Fail fast: more failures than the wave's budget allows."""
    return failed > allowed
