"""Tracks: one document per track with its spec and where its revisions stand."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from shared.ordering import BranchHead, Placed, Placement, PushedCommit, first_head, place
from shared.store.containers import TRACKS
from shared.store.record import Record, SafeId, _Repository
from shared.times import UtcTime
from shared.trackspec import TrackSpec


class TrackRecord(Record):
    """One track: its spec and where its revisions stand. Partition key: `id`."""

    container: ClassVar[str] = TRACKS

    id: SafeId
    """The track name."""
    spec: dict[str, Any]
    """The track spec as wire JSON (`TrackSpec.to_wire()`)."""
    current_revision: str | None = None
    """The revision the track points at (the newest rollout's target)."""
    last_good_revision: str | None = None
    """The newest revision every wave accepted; rollback and catch-up go here."""
    active_rollout_id: str | None = None
    spec_version: str = ""
    """Changes with every write of the spec (never with rollout bookkeeping): the API's ETag."""
    head: BranchHead | None = None
    """The newest push the track took for its branch (`shared.ordering`)."""
    updated_at: UtcTime

    @classmethod
    def for_spec(cls, spec: TrackSpec, now: datetime) -> "TrackRecord":
        return cls(id=spec.name, spec=spec.to_wire(), spec_version=new_version(), updated_at=now)

    def with_spec(self, spec: TrackSpec) -> "TrackRecord":
        """This track with a new spec (and so a new `spec_version`). A track that follows
        another repository or branch from now on forgets the newest push of the old one."""
        old = self.track_spec().source
        moved = (old.url, old.branch) != (spec.source.url, spec.source.branch)
        update: dict[str, Any] = {"spec": spec.to_wire(), "spec_version": new_version()}
        if moved:
            update["head"] = None
        return self.model_copy(update=update)

    def taking(self, push: PushedCommit) -> tuple["TrackRecord | None", Placed]:
        """This track having taken `push` (None when it needs no write), and where the push
        stood against the newest one it took."""
        placed = place(self.head, push)
        if placed.placement is not Placement.NEWER:
            return None, placed
        head = self.head.moved_to(push) if self.head else first_head(push)
        return self.model_copy(update={"head": head}), placed

    def track_spec(self) -> TrackSpec:
        return TrackSpec.model_validate(self.spec)


def new_version() -> str:
    return uuid.uuid4().hex[:16]


class TrackRepository(_Repository[TrackRecord]):
    model = TrackRecord

    def get(self, name: str) -> TrackRecord:
        return self._get(name, name)

    def find(self, name: str) -> TrackRecord | None:
        return self._find(name, name)

    def update(
        self,
        name: str,
        mutate: Callable[[TrackRecord], TrackRecord | None],
        *,
        default: Callable[[], TrackRecord] | None = None,
        attempts: int = 10,
    ) -> TrackRecord:
        return self._update(name, name, mutate, default, attempts)

    def list(self) -> list[TrackRecord]:
        docs = self.store.query(self.container, None, order_by="id")
        return [TrackRecord.from_document(d) for d in docs]
