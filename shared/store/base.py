"""The state store protocol: a few containers of JSON documents with ETags, TTL and dedupe.

Each container holds JSON documents addressed by (partition key, id), as Cosmos DB does
(`shared.store.containers` names the five). Every document a store returns carries `_etag`
(an opaque string that changes on every write) and `_ts` (epoch seconds of the last write);
writes ignore those fields. A write can be made conditional on the ETag the writer read, so
two writers that race (two triggers, an operator and an orchestrator) cannot silently
overwrite each other: one wins, the other gets `PreconditionFailed`, re-reads and retries
(`shared.store.records.update_with_retry` does that loop).

The API is synchronous: activities run sync functions on the Functions worker pool, and so
does devhost. An async caller uses `await asyncio.to_thread(store.get, ...)`. Adapters are
safe to share between threads.

Errors (every one a `StoreError`, placed in arcwave's `shared.errors` vocabulary so
activities treat them like the other adapters' errors):

    * StoreError(ArcwaveError)            anything the store refused
      + NotFound (errors.NotFound)         no document with that id in that partition
                                           (or it expired)
      + Conflict (PermanentError)          create of an id that already exists: the
                                           dedupe signal
      + PreconditionFailed                 the document changed (or vanished) since its
                                           ETag was read: re-read, re-decide, write again
      + StoreUnavailable (TransientError)  throttled, timed out, unreachable, locked;
                                           `retry_after` is the server's hint (or None),
                                           `delay` what to wait when there is none
      + StoreMisconfigured (PermanentError)
                                           a setting or a container does not fit the design
      + DocumentTooLarge (PermanentError)  the document is over Cosmos DB's item limit;
                                           refused before any write, by both adapters, so
                                           what SQLite accepts locally Cosmos accepts in Azure

On a request path every call waits at most what is left of the request's store budget
(`shared.store.waiting`); elsewhere the adapters' own timeouts hold.
"""

import json
import re
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from shared import errors
from shared.errors import ArcwaveError, PermanentError, TransientError

Document = dict[str, Any]
"""A JSON object; returned documents also hold `_etag` and `_ts`."""

Scalar = str | int | float | bool
"""What an equality filter may compare a field with."""

SYSTEM_FIELDS = frozenset({"_etag", "_ts", "_rid", "_self", "_attachments", "_lsn"})
"""Fields the store owns; they are dropped from every document written."""

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


MAX_DOCUMENT_BYTES = 2_000_000
"""The largest document either adapter writes, as compact JSON (what the Cosmos SDK sends).
Cosmos DB's item limit is 2 MB (docs: concepts-limits, "per-item limits"); read as decimal
megabytes it holds whichever way Cosmos counts, with room for the ~200 bytes of system
properties (`_rid`, `_self`, `_etag`, ...) it adds to each item."""

DEFAULT_RETRY_DELAY = 1.0
"""Seconds to wait before retrying a transient store failure that gave no hint."""


class StoreError(ArcwaveError):
    """The store refused an operation; the message says which document and why."""

    def __init__(self, message: str, *, container: str | None = None, id: str | None = None):
        super().__init__(message)
        self.container = container
        self.id = id


class NotFound(StoreError, errors.NotFound):
    """No document with that id in that partition (expired documents count as absent)."""


class Conflict(StoreError, PermanentError):
    """A create found the id already present: the caller has seen this one before."""

    code = "Conflict"


class PreconditionFailed(StoreError):
    """The document's ETag no longer matches the one the writer read: re-read and retry."""


class StoreUnavailable(StoreError, TransientError):
    """A transient failure: throttled, timed out, unreachable or locked. Safe to retry."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        container: str | None = None,
        id: str | None = None,
    ):
        super().__init__(message, container=container, id=id)
        self.retry_after = retry_after
        self.delay = DEFAULT_RETRY_DELAY if retry_after is None else retry_after


class StoreMisconfigured(StoreError, PermanentError):
    """A store setting is missing or wrong, or a container does not match the design."""

    code = "Misconfigured"


class DocumentTooLarge(StoreError, PermanentError):
    """The document would be over `MAX_DOCUMENT_BYTES`; nothing was written."""

    code = "TooLarge"

    def __init__(self, message: str, *, size: int, container: str, id: str) -> None:
        super().__init__(message, container=container, id=id)
        self.size = size
        self.limit = MAX_DOCUMENT_BYTES


def check_size(container: str, body: Mapping[str, Any], partition_key: str, id: str) -> None:
    """`DocumentTooLarge` when `body` is over the item limit; both adapters call it before
    every write, so a document SQLite stores is one Cosmos DB stores too."""
    check_encoded_size(container, json.dumps(body, separators=(",", ":")), partition_key, id)


def check_encoded_size(container: str, encoded: str, partition_key: str, id: str) -> None:
    """`check_size` of a body already encoded as compact JSON (`json.dumps`, ASCII)."""
    size = len(encoded)  # ASCII by default: chars are bytes
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(
            f"{describe(container, partition_key, id)} would be {size:,} bytes, over the "
            f"{MAX_DOCUMENT_BYTES:,}-byte limit of a stored document (Cosmos DB's 2 MB item "
            "limit); nothing was written",
            size=size,
            container=container,
            id=id,
        )


class ClosesOnExit:
    """`with store:` closes the store at the end of the block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@runtime_checkable
class Store(Protocol):
    """A document store with the semantics of one Cosmos DB database.

    `container` is one of the names in `shared.store.containers`; the partition key of a
    document is the field that container names (`track`, `rolloutId`, ...), so writes take
    the document alone. Ids must already be safe for Cosmos (`containers.encode_id`).
    """

    def get(self, container: str, partition_key: str, id: str) -> Document:
        """The document, or `NotFound`."""
        ...

    def create(self, container: str, doc: Mapping[str, Any]) -> Document:
        """Create-if-absent: the stored document, or `Conflict` when the id exists."""
        ...

    def upsert(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        """Create or replace. With `if_match`, replace only the version with that ETag
        (`PreconditionFailed` when it changed or no longer exists)."""
        ...

    def replace(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        """Replace an existing document (`NotFound` when absent); with `if_match`, only the
        version with that ETag (`PreconditionFailed` otherwise)."""
        ...

    def delete(
        self, container: str, partition_key: str, id: str, *, if_match: str | None = None
    ) -> None:
        """Delete the document (`NotFound` when absent); with `if_match`, only that version."""
        ...

    def query(
        self,
        container: str,
        partition_key: str | None,
        *,
        where: Mapping[str, Scalar] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Document]:
        """Documents whose top-level fields equal `where`, in one partition (or across all
        when `partition_key` is None), sorted by one top-level field, at most `limit`.
        As in Cosmos, a sorted query leaves out documents that lack the sort field."""
        ...

    def upsert_many(self, container: str, docs: Iterable[Mapping[str, Any]]) -> list[Document]:
        """Upsert many documents of one partition at once: one transaction on SQLite,
        transactional batches of at most 100 on Cosmos (each batch all-or-nothing)."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def check_field(name: str) -> str:
    """A top-level field name safe to put in a query; anything else is a programming error."""
    if not _FIELD.fullmatch(name):
        raise ValueError(f"'{name}' is not a plain top-level field name (letters, digits, _)")
    return name


def check_query(
    where: Mapping[str, Scalar] | None, order_by: str | None, limit: int | None
) -> dict[str, Scalar]:
    """Validate the parts of a query both adapters build from; return the filters."""
    filters = dict(where or {})
    for name, value in filters.items():
        check_field(name)
        if not isinstance(value, Scalar):
            raise TypeError(f"filter '{name}' must be a str, int, float or bool, got {value!r}")
    if order_by is not None:
        check_field(order_by)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    return filters


def body_of(doc: Mapping[str, Any]) -> Document:
    """The document without the fields the store owns."""
    if SYSTEM_FIELDS.isdisjoint(doc):  # a document arcwave made: a copy is all it takes
        return dict(doc)
    return {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}


def describe(container: str, partition_key: object, id: object) -> str:
    """`document 'x' in 'rollouts' (partition 'baseline')`, for messages."""
    return f"document '{id}' in '{container}' (partition '{partition_key}')"
