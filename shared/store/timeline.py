"""The timeline: what happened to a rollout, who did it and why, one entry per step."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from shared.reasons import Reason
from shared.store.base import Conflict, Store
from shared.store.containers import TIMELINE, encode_id
from shared.store.record import Record, SafeId, _Repository
from shared.times import Clock, UtcTime


class TimelineEntry(Record):
    """One audit entry of a rollout: who did what, when and why. Partition key: `rolloutId`.

    The id is derived from a key that names the event within the rollout (for example
    `wave/canary/started`), so a retried activity writes the entry once."""

    container: ClassVar[str] = TIMELINE

    id: str = Field(min_length=1)
    rollout_id: SafeId
    time: UtcTime
    actor: str
    reason: Reason
    message: str
    data: dict[str, Any] = Field(default_factory=dict)
    ttl: int | None = None


class TimelineRepository(_Repository[TimelineEntry]):
    model = TimelineEntry

    def __init__(self, store: Store, now: Clock, ttl: int) -> None:
        super().__init__(store, now)
        self.ttl = ttl

    def append(
        self,
        rollout_id: str,
        key: str,
        *,
        actor: str,
        reason: Reason,
        message: str,
        data: Mapping[str, Any] | None = None,
        time: datetime | None = None,
    ) -> bool:
        """Write the entry named `key` once; False when it was already written."""
        entry = TimelineEntry(
            id=encode_id(key),
            rollout_id=rollout_id,
            time=time or self.now(),
            actor=actor,
            reason=reason,
            message=message,
            data=dict(data or {}),
            ttl=self.ttl,
        )
        try:
            self.create(entry)
        except Conflict:
            return False
        return True

    def find(self, rollout_id: str, key: str) -> TimelineEntry | None:
        """The entry named `key`, if it was written."""
        return self._find(rollout_id, encode_id(key))

    def list(self, rollout_id: str, *, limit: int | None = None) -> list[TimelineEntry]:
        """A rollout's entries, oldest first."""
        docs = self.store.query(self.container, rollout_id, order_by="time", limit=limit)
        return [TimelineEntry.from_document(d) for d in docs]
