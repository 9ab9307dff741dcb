"""ARM async operations: what an ``Azure-AsyncOperation`` URL reports, and when each is done."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from emulator.arm import now_iso

Key = tuple[str, str, str]
MAX_OPERATIONS = 50_000
"""Beyond this many, the oldest operations are forgotten (their URLs answer 404)."""


@dataclass
class Operation:
    """An ARM async operation behind an ``Azure-AsyncOperation`` URL."""

    id: str
    cluster_key: Key
    configuration: str
    kind: Literal["write", "delete"]
    done_at: float
    status: str = "InProgress"
    started_at: str = field(default_factory=now_iso)
    ended_at: str | None = None

    def finish(self, status: str = "Succeeded") -> None:
        self.status = status
        self.ended_at = now_iso()


class Operations:
    """Operations by id, and the order in which they come due."""

    def __init__(self) -> None:
        self._by_id: dict[str, Operation] = {}
        self._due: list[tuple[float, int, str]] = []
        self._seq = itertools.count()

    def add(self, operation: Operation) -> Operation:
        self._by_id[operation.id] = operation
        heapq.heappush(self._due, (operation.done_at, next(self._seq), operation.id))
        if len(self._by_id) > MAX_OPERATIONS:
            self._by_id.pop(next(iter(self._by_id)))
        return operation

    def get(self, op_id: str) -> Operation | None:
        return self._by_id.get(op_id)

    def __getitem__(self, op_id: str) -> Operation:
        return self._by_id[op_id]

    def __len__(self) -> int:
        return len(self._by_id)

    def due(self, now: float) -> Iterator[Operation]:
        """The operations still in progress whose time has come, soonest first."""
        while self._due and self._due[0][0] <= now:
            _, _, op_id = heapq.heappop(self._due)
            operation = self._by_id.get(op_id)
            if operation is not None and operation.status == "InProgress":
                yield operation
