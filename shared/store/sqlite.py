"""The embedded store: one SQLite file with the semantics of the Cosmos containers.

`ARCWAVE_STORE=sqlite:///ABSOLUTE/PATH.db`. One table holds every container's documents,
keyed by (container, partition key, id), with the ETag, the last write time and, for
containers with TTL, when the document expires. The file is in WAL mode so readers never wait
for a writer.

- Threads: each thread gets its own connection (sqlite3 connections must not be shared
  while in use), so activities on a worker pool run side by side.
- Processes: every write runs in `BEGIN IMMEDIATE`, which takes the file's write lock before
  reading, so the ETag check and the write of a conditional write are one step even when
  several processes (devhost workers) share the file. A writer waits up to `busy_timeout`
  seconds for the lock (on a request path, at most what is left of the request's store
  budget: `shared.store.waiting`), then gets `StoreUnavailable`.
- TTL: an expired document is invisible to every read and query and counts as absent for
  create; expired rows are deleted lazily, at most once a minute per container, by writes.
  Time comes from `clock` (epoch seconds), so tests move it instead of sleeping.
"""

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.store.base import (
    ClosesOnExit,
    Conflict,
    Document,
    NotFound,
    PreconditionFailed,
    Scalar,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
    check_encoded_size,
    check_query,
    check_size,
    describe,
)
from shared.store.containers import ContainerSpec, Layout, keys_of
from shared.store.waiting import spending, time_left

PURGE_INTERVAL = 60.0
"""Seconds (of the store's clock) between two lazy purges of one container's expired rows."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS documents (
        container  TEXT    NOT NULL,
        pk         TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        body       TEXT    NOT NULL,
        etag       TEXT    NOT NULL,
        ts         INTEGER NOT NULL,
        expires_at REAL,
        PRIMARY KEY (container, pk, id)
    ) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS documents_expiry ON documents (container, expires_at)
        WHERE expires_at IS NOT NULL""",
)

_LIVE = "(expires_at IS NULL OR expires_at > ?)"


class SqliteStore(ClosesOnExit):
    """The `Store` protocol over one SQLite file; see the module docstring."""

    def __init__(
        self,
        path: str | Path,
        *,
        layout: Layout | None = None,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_absolute():
            raise StoreMisconfigured(f"the SQLite store needs an absolute path, got '{path}'")
        if not self.path.parent.is_dir():
            raise StoreMisconfigured(
                f"the folder of the SQLite store '{self.path}' does not exist; create it first"
            )
        self.layout = layout or Layout()
        self.clock = clock
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._purged: dict[str, float] = {}
        self._closed = False
        with self._write() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    # -- the protocol ------------------------------------------------------------------------

    def get(self, container: str, partition_key: str, id: str) -> Document:
        spec = self.layout.spec(container)
        with spending():
            row = (
                self._connection()
                .execute(
                    f"SELECT body, etag, ts FROM documents"
                    f" WHERE container = ? AND pk = ? AND id = ? AND {_LIVE}",
                    (spec.name, partition_key, id, self.clock()),
                )
                .fetchone()
            )
        if row is None:
            raise NotFound(
                f"{describe(container, partition_key, id)} not found",
                container=container,
                id=id,
            )
        return _document(row)

    def create(self, container: str, doc: Mapping[str, Any]) -> Document:
        spec = self.layout.spec(container)
        body, pk, id = keys_of(spec, doc)
        check_size(container, body, pk, id)
        with self._write(spec) as db:
            now = self.clock()
            if self._current(db, spec, pk, id, now) is not None:
                raise Conflict(
                    f"{describe(container, pk, id)} already exists", container=container, id=id
                )
            return self._put(db, spec, body, pk, id, now)

    def upsert(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        missing = PreconditionFailed if if_match is not None else None
        return self._write_over(container, doc, if_match, missing=missing)

    def replace(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        return self._write_over(container, doc, if_match, missing=NotFound)

    def _write_over(
        self,
        container: str,
        doc: Mapping[str, Any],
        if_match: str | None,
        *,
        missing: type[StoreError] | None,
    ) -> Document:
        """Write `doc` in place of what is there. With `missing`, only over a document that
        exists (else that error), and with `if_match` only over that version."""
        spec = self.layout.spec(container)
        body, pk, id = keys_of(spec, doc)
        check_size(container, body, pk, id)
        with self._write(spec) as db:
            now = self.clock()
            if missing is not None:
                self._check_etag(db, spec, pk, id, now, if_match, missing=missing)
            return self._put(db, spec, body, pk, id, now)

    def delete(
        self, container: str, partition_key: str, id: str, *, if_match: str | None = None
    ) -> None:
        spec = self.layout.spec(container)
        with self._write(spec) as db:
            now = self.clock()
            self._check_etag(db, spec, partition_key, id, now, if_match, missing=NotFound)
            db.execute(
                "DELETE FROM documents WHERE container = ? AND pk = ? AND id = ?",
                (spec.name, partition_key, id),
            )

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
        spec = self.layout.spec(container)
        filters = check_query(where, order_by, limit)
        sql = [f"SELECT body, etag, ts FROM documents WHERE container = ? AND {_LIVE}"]
        args: list[Any] = [spec.name, self.clock()]
        if partition_key is not None:
            sql.append("AND pk = ?")
            args.append(partition_key)
        for name, value in filters.items():
            sql.append(f"AND json_extract(body, '$.{name}') = ?")
            args.append(value)
        if order_by is not None:
            # Cosmos leaves documents without the ORDER BY field out; so does this store.
            sql.append(f"AND json_type(body, '$.{order_by}') IS NOT NULL")
            direction = "DESC" if descending else "ASC"
            sql.append(f"ORDER BY json_extract(body, '$.{order_by}') {direction}")
        if limit is not None:
            sql.append("LIMIT ?")
            args.append(limit)
        with spending():
            rows = self._connection().execute(" ".join(sql), args).fetchall()
        return [_document(row) for row in rows]

    def upsert_many(self, container: str, docs: Iterable[Mapping[str, Any]]) -> list[Document]:
        spec = self.layout.spec(container)
        keyed = [keys_of(spec, doc) for doc in docs]
        if not keyed:
            return []
        encoded = [json.dumps(b, separators=(",", ":")) for b, _, _ in keyed]  # checked, stored
        for (_, pk, id), text in zip(keyed, encoded, strict=True):
            check_encoded_size(container, text, pk, id)
        with self._write(spec) as db:
            now = self.clock()
            rows = [_row(spec, *key, now, text) for key, text in zip(keyed, encoded, strict=True)]
            db.executemany(_UPSERT, rows)  # one statement for a whole wave of clusters
        return [{**k[0], "_etag": r[4], "_ts": r[5]} for k, r in zip(keyed, rows, strict=True)]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def __repr__(self) -> str:
        return f"SqliteStore('{self.path}')"

    # -- helpers -----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, waiting for locks as long as this call may."""
        wait = time_left(self.busy_timeout)
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            self._wait_at_most(connection, wait)
            return connection
        with self._lock:
            if self._closed:
                raise StoreError(f"{self!r} is closed")
            try:
                connection = sqlite3.connect(
                    self.path,
                    timeout=wait,
                    isolation_level=None,
                    check_same_thread=False,
                )
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as error:
                raise _mapped(error, f"cannot open the SQLite store '{self.path}'") from error
            self._connections.append(connection)
        self._local.connection = connection
        self._local.busy_ms = _milliseconds(wait)
        return connection

    def _wait_at_most(self, connection: sqlite3.Connection, seconds: float) -> None:
        """Set how long the connection waits for a lock (the busy timeout), when it changes:
        the adapter's `busy_timeout`, or what is left of a request's store budget."""
        wanted = _milliseconds(seconds)
        if getattr(self._local, "busy_ms", None) != wanted:
            connection.execute(f"PRAGMA busy_timeout = {wanted}")
            self._local.busy_ms = wanted

    @contextmanager
    def _write(self, spec: ContainerSpec | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction that holds the file's write lock from its first read."""
        with spending():  # waiting for the lock is what a request's budget bounds
            db = self._connection()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise _mapped(error, f"cannot write to the SQLite store '{self.path}'") from error
        try:
            yield db
            if spec is not None:
                self._purge_expired(db, spec)
            db.execute("COMMIT")
        except BaseException as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise _mapped(error, f"write to the SQLite store '{self.path}' failed") from error
            raise

    def _current(
        self, db: sqlite3.Connection, spec: ContainerSpec, pk: str, id: str, now: float
    ) -> str | None:
        """The ETag of the live document, or None when there is none."""
        row = db.execute(
            f"SELECT etag FROM documents WHERE container = ? AND pk = ? AND id = ? AND {_LIVE}",
            (spec.name, pk, id, now),
        ).fetchone()
        return None if row is None else str(row[0])

    def _check_etag(
        self,
        db: sqlite3.Connection,
        spec: ContainerSpec,
        pk: str,
        id: str,
        now: float,
        if_match: str | None,
        *,
        missing: type[StoreError],
    ) -> None:
        etag = self._current(db, spec, pk, id, now)
        what = describe(spec.name, pk, id)
        if etag is None:
            raise missing(f"{what} not found", container=spec.name, id=id)
        if if_match is not None and etag != if_match:
            raise PreconditionFailed(
                f"{what} changed since it was read (ETag mismatch); re-read and retry",
                container=spec.name,
                id=id,
            )

    def _put(
        self,
        db: sqlite3.Connection,
        spec: ContainerSpec,
        body: Document,
        pk: str,
        id: str,
        now: float,
    ) -> Document:
        row = _row(spec, body, pk, id, now, json.dumps(body, separators=(",", ":")))
        db.execute(_UPSERT, row)
        return {**body, "_etag": row[4], "_ts": row[5]}

    def _purge_expired(self, db: sqlite3.Connection, spec: ContainerSpec) -> None:
        if spec.default_ttl is None:
            return
        now = self.clock()
        if now - self._purged.get(spec.name, float("-inf")) < PURGE_INTERVAL:
            return
        self._purged[spec.name] = now
        db.execute(
            "DELETE FROM documents WHERE container = ? AND expires_at <= ?", (spec.name, now)
        )


_UPSERT = (
    "INSERT OR REPLACE INTO documents (container, pk, id, body, etag, ts, expires_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _row(
    spec: ContainerSpec, body: Document, pk: str, id: str, now: float, encoded: str
) -> tuple[str, str, str, str, str, int, float | None]:
    """The values of `_UPSERT` for one document, its body `encoded` as compact JSON."""
    ttl = _effective_ttl(spec, body)
    expires = None if ttl is None else now + ttl
    return (spec.name, pk, id, encoded, f'"{uuid.uuid4()}"', int(now), expires)


def _effective_ttl(spec: ContainerSpec, body: Mapping[str, Any]) -> int | None:
    """Seconds the document lives after this write, or None: Cosmos's TTL rules."""
    if spec.default_ttl is None:
        return None
    item = body.get("ttl")
    ttl = item if isinstance(item, int) and not isinstance(item, bool) and item != 0 else None
    ttl = spec.default_ttl if ttl is None else ttl
    return None if ttl < 0 else ttl


def _milliseconds(seconds: float) -> int:
    return max(0, int(seconds * 1000))


def _document(row: tuple[str, str, int]) -> Document:
    body: Document = json.loads(row[0])
    body["_etag"] = row[1]
    body["_ts"] = row[2]
    return body


def _mapped(error: sqlite3.Error, what: str) -> StoreError:
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StoreUnavailable(f"{what}: the database is locked by another writer; retry")
    return StoreError(f"{what}: {text}")
