"""The base of every stored record, and the read-modify-write loop the repositories share.

Records are `WireModel`s (camelCase on the wire, frozen): change one with
`record.model_copy(update={...})`. A record read from the store remembers its ETag
(`record.etag`, never written back), so a later `save(record, if_match=record.etag)` only
succeeds when nobody wrote in between. `update` does the whole read-modify-write loop:

    records.rollouts.update("baseline", rollout_id,
        lambda r: r.model_copy(update={"state": RolloutState.PAUSED, "reason": Reason.PAUSED}))

Every write sets `updatedAt` from the repository's clock, so callers never stamp it.
"""

import random
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import AfterValidator, Field

from shared.store.base import SYSTEM_FIELDS, Conflict, Document, NotFound, PreconditionFailed, Store
from shared.store.containers import encode_id
from shared.times import Clock
from shared.wire import WireModel


def _safe_id(value: str) -> str:
    if encode_id(value) != value:
        raise ValueError(
            f"'{value}' cannot be an id: ids must not hold / \\ ? # ~ and must fit 1,023 bytes"
        )
    return value


SafeId = Annotated[str, Field(min_length=1), AfterValidator(_safe_id)]
"""An id Cosmos accepts as it is (track names, rollout ids)."""


class Record(WireModel):
    """A document of one container; `etag` is the version it was read at (None when new)."""

    container: ClassVar[str]
    etag: str | None = Field(default=None, exclude=True)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Self:
        body = {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}
        return cls.model_validate({**body, "etag": doc.get("_etag")})

    def to_document(self) -> Document:
        return self.to_wire()


# -- the read-modify-write loop ----------------------------------------------------------------


def update_with_retry(
    store: Store,
    container: str,
    partition_key: str,
    id: str,
    mutate: Callable[[Document], Document | None],
    *,
    default: Callable[[], Document] | None = None,
    attempts: int = 10,
    sleep: Callable[[float], None] = time.sleep,
) -> Document:
    """Read, change and write back one document, retrying when another writer got there first.

    `mutate` gets a copy of the current document and returns the new one, or None to leave
    it as it is. When the document does not exist, `default()` is mutated and created
    (`NotFound` without a default, or when `mutate` returns None for it). A lost race
    (`PreconditionFailed`, or `Conflict` on create) re-reads and calls `mutate` again, up to
    `attempts` times, with a short random pause between tries so racing writers spread out.
    """
    for attempt in range(attempts):
        if attempt:
            sleep(random.uniform(0, 0.005 * min(attempt, 10)))
        try:
            current: Document | None = store.get(container, partition_key, id)
        except NotFound:
            if default is None:
                raise
            current = None
        if current is not None:
            changed = mutate(dict(current))
        else:
            assert default is not None
            changed = mutate(default())
        if changed is None:
            if current is None:
                raise NotFound(
                    f"document '{id}' in '{container}' (partition '{partition_key}') does not "
                    "exist and the change left the default unwritten",
                    container=container,
                    id=id,
                )
            return current
        try:
            if current is None:
                return store.create(container, changed)
            return store.replace(container, changed, if_match=current["_etag"])
        except (PreconditionFailed, Conflict):
            continue
        except NotFound:
            if default is None:
                raise
            continue
    raise PreconditionFailed(
        f"document '{id}' in '{container}' (partition '{partition_key}') kept changing: "
        f"gave up after {attempts} attempts",
        container=container,
        id=id,
    )


# -- repositories ------------------------------------------------------------------------------

R = TypeVar("R", bound=Record)


class _Repository(Generic[R]):
    model: type[R]

    def __init__(self, store: Store, now: Clock) -> None:
        self.store = store
        self.now = now

    @property
    def container(self) -> str:
        return self.model.container

    def _get(self, partition_key: str, id: str) -> R:
        return self.model.from_document(self.store.get(self.container, partition_key, id))

    def _find(self, partition_key: str, id: str) -> R | None:
        try:
            return self._get(partition_key, id)
        except NotFound:
            return None

    def _stamped(self, record: R) -> Document:
        """The document to write, with `updatedAt` set to now where the record has one."""
        if "updated_at" in type(record).model_fields:
            record = record.model_copy(update={"updated_at": self.now()})
        return record.to_document()

    def _stamped_all(self, records: list[R]) -> list[Document]:
        """The documents to write, every `updatedAt` set to the same now (one batch)."""
        if not records or "updated_at" not in type(records[0]).model_fields:
            return [r.to_document() for r in records]
        stamp = self._stamped(records[0])["updatedAt"]
        return [{**r.to_document(), "updatedAt": stamp} for r in records]

    def create(self, record: R) -> R:
        """Store a new record; `Conflict` when one with its id exists."""
        return self.model.from_document(self.store.create(self.container, self._stamped(record)))

    def save(self, record: R, *, if_match: str | None = None) -> R:
        """Create or replace; with `if_match` (usually `record.etag`) only over that version.
        Every write sets `updatedAt` from the repository's clock."""
        doc = self.store.upsert(self.container, self._stamped(record), if_match=if_match)
        return self.model.from_document(doc)

    def _update(
        self,
        partition_key: str,
        id: str,
        mutate: Callable[[R], R | None],
        default: Callable[[], R] | None,
        attempts: int,
    ) -> R:
        def on_document(doc: Document) -> Document | None:
            changed = mutate(self.model.from_document(doc))
            return None if changed is None else self._stamped(changed)

        doc = update_with_retry(
            self.store,
            self.container,
            partition_key,
            id,
            on_document,
            default=None if default is None else (lambda: default().to_wire()),
            attempts=attempts,
        )
        return self.model.from_document(doc)
