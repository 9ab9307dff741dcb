"""The store's bounds, the same on SQLite and on the Cosmos stand-in: a document over Cosmos
DB's item limit is refused before any write, and a request path waits on a locked or
unreachable store only as long as its store budget allows."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shared.store import DocumentTooLarge, NotFound, Store, StoreUnavailable
from shared.store.base import MAX_DOCUMENT_BYTES
from shared.store.containers import DELIVERIES, TRACKS
from shared.store.sqlite import SqliteStore
from shared.store.waiting import on_budget, spending, store_budget, time_left
from tests.cosmos_standin import CosmosStandIn
from tests.outage import CuttableLink

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("error::urllib3.exceptions.InsecureRequestWarning"),
]

GENEROUS = 10.0
"""An upper bound no healthy run comes near (the budgets are about a second): it only proves
a request path does not wait the adapters' 30 s."""


def track_doc(name: str, padding: int) -> dict[str, Any]:
    return {"id": name, "track": name, "spec": {"notes": "x" * padding}}


def test_a_document_over_the_item_limit_is_refused_before_any_write(store: Store) -> None:
    big = track_doc("big", MAX_DOCUMENT_BYTES)
    writes = [
        lambda: store.create(TRACKS, big),
        lambda: store.upsert(TRACKS, big),
        lambda: store.upsert_many(TRACKS, [track_doc("small", 10), big]),
    ]
    for write in writes:
        with pytest.raises(DocumentTooLarge, match="2 MB item limit") as caught:
            write()
        assert caught.value.limit == MAX_DOCUMENT_BYTES
        assert caught.value.size > MAX_DOCUMENT_BYTES
    for name in ("big", "small"):  # nothing of a refused batch was written either
        with pytest.raises(NotFound):
            store.get(TRACKS, name, name)


def test_a_replace_over_the_limit_leaves_the_stored_document_as_it_was(store: Store) -> None:
    stored = store.create(TRACKS, track_doc("t", 10))
    with pytest.raises(DocumentTooLarge):
        store.replace(TRACKS, track_doc("t", MAX_DOCUMENT_BYTES), if_match=stored["_etag"])
    assert store.get(TRACKS, "t", "t")["_etag"] == stored["_etag"]


def test_a_document_just_under_the_limit_is_stored(store: Store) -> None:
    doc = track_doc("edge", 0)
    doc["spec"]["notes"] = "x" * (MAX_DOCUMENT_BYTES - 100)
    store.upsert(TRACKS, doc)
    assert len(store.get(TRACKS, "edge", "edge")["spec"]["notes"]) == MAX_DOCUMENT_BYTES - 100


def test_a_budget_counts_only_time_spent_in_store_calls() -> None:
    assert not on_budget() and time_left(30.0) == 30.0
    with store_budget(5.0):
        assert on_budget() and time_left(30.0) == 5.0
        time.sleep(0.05)  # the request's own work is not store time
        assert time_left(30.0) == 5.0
        with spending():
            time.sleep(0.05)
        assert 0 < time_left(30.0) < 5.0
        assert time_left(1.0) == 1.0
        with store_budget(60.0):  # an inner budget does not extend the outer one
            assert time_left(30.0) < 5.0
    assert not on_budget()


def locked(path: Path) -> tuple[sqlite3.Connection, threading.Event]:
    """Another connection holding the file's write lock (BEGIN EXCLUSIVE) until released."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder, threading.Event()


def test_a_locked_sqlite_file_fails_a_request_path_when_its_budget_is_spent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    store = SqliteStore(path, busy_timeout=30.0)  # what activities get
    store.create(DELIVERIES, {"id": "d0", "source": "github"})
    holder, _ = locked(path)
    try:
        started = time.monotonic()
        with store_budget(0.5), pytest.raises(StoreUnavailable, match="locked"):
            store.create(DELIVERIES, {"id": "d1", "source": "github"})
        assert time.monotonic() - started < GENEROUS
        # Reads go on in WAL mode, budget or not.
        assert store.get(DELIVERIES, "github", "d0")["id"] == "d0"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Off the request path the same thread's connection waits its own busy timeout again:
    # the write lock taken meanwhile by another thread is waited out.
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        store.create(DELIVERIES, {"id": "d2", "source": "github"})
    finally:
        release.join()
        holder.close()
        store.close()
    assert SqliteStore(path).get(DELIVERIES, "github", "d2")["id"] == "d2"


def test_an_unreachable_cosmos_fails_a_request_path_when_its_budget_is_spent(
    cosmos_standin: CosmosStandIn,
) -> None:
    with CuttableLink(cosmos_standin.address) as link:
        endpoint = f"https://127.0.0.1:{link.port}/"
        store = CosmosStandIn(endpoint, cosmos_standin.cert, cosmos_standin.key).open()
        try:
            store.create(DELIVERIES, {"id": "d0", "source": "github"})
            with store_budget(1.0):  # opens the request-path client while reachable
                assert store.get(DELIVERIES, "github", "d0")["id"] == "d0"
            with link.outage():
                started = time.monotonic()
                with store_budget(1.0), pytest.raises(StoreUnavailable):
                    store.create(DELIVERIES, {"id": "d1", "source": "github"})
                assert time.monotonic() - started < GENEROUS
        finally:
            store.close()
