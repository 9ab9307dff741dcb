"""What only the SQLite store does: TTL expiry on its own clock, locking, processes, rollback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.store import Layout, NotFound, Records, StoreMisconfigured, StoreUnavailable
from shared.store.containers import DELIVERIES, TIMELINE, TRACKS
from shared.store.sqlite import PURGE_INTERVAL, SqliteStore

ROOT = Path(__file__).resolve().parents[3]


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.db", clock=clock, layout=Layout(timeline_ttl=100)) as s:
        yield s


def rows(store: SqliteStore, container: str) -> int:
    with sqlite3.connect(store.path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM documents WHERE container = ?", (container,)
        ).fetchone()
    return int(count)


def test_the_file_is_in_wal_mode(store: SqliteStore) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_document_expires_after_the_container_ttl(store: SqliteStore, clock: FakeClock) -> None:
    store.create(TIMELINE, {"id": "e1", "rolloutId": "r1"})
    clock.advance(99)
    assert store.get(TIMELINE, "r1", "e1")["id"] == "e1"
    clock.advance(1)
    with pytest.raises(NotFound):
        store.get(TIMELINE, "r1", "e1")
    assert store.query(TIMELINE, "r1") == []
    assert store.query(TIMELINE, None) == []


def test_the_item_ttl_overrides_the_container_default(store: SqliteStore, clock: FakeClock) -> None:
    store.create(TIMELINE, {"id": "short", "rolloutId": "r1", "ttl": 10})
    store.create(TIMELINE, {"id": "forever", "rolloutId": "r1", "ttl": -1})
    clock.advance(1_000_000)
    assert [d["id"] for d in store.query(TIMELINE, "r1")] == ["forever"]


def test_item_ttl_is_ignored_where_the_container_has_no_ttl(
    store: SqliteStore, clock: FakeClock
) -> None:
    store.create(TRACKS, {"id": "baseline", "ttl": 10})
    clock.advance(1_000)
    assert store.get(TRACKS, "baseline", "baseline")["ttl"] == 10


def test_a_write_restarts_the_ttl(store: SqliteStore, clock: FakeClock) -> None:
    store.create(TIMELINE, {"id": "e1", "rolloutId": "r1"})
    clock.advance(60)
    store.upsert(TIMELINE, {"id": "e1", "rolloutId": "r1", "v": 2})
    clock.advance(60)
    assert store.get(TIMELINE, "r1", "e1")["v"] == 2


def test_an_expired_delivery_can_be_recorded_again(tmp_path: Path, clock: FakeClock) -> None:
    store = SqliteStore(tmp_path / "s.db", clock=clock, layout=Layout(delivery_ttl=3600))
    records = Records(store)
    assert records.record_delivery("github", "d-1") is True
    clock.advance(3599)
    assert records.record_delivery("github", "d-1") is False
    clock.advance(1)
    assert records.record_delivery("github", "d-1") is True
    store.close()


def test_an_expired_document_cannot_be_replaced_or_deleted(
    store: SqliteStore, clock: FakeClock
) -> None:
    read = store.create(TIMELINE, {"id": "e1", "rolloutId": "r1"})
    clock.advance(100)
    with pytest.raises(NotFound):
        store.replace(TIMELINE, read, if_match=read["_etag"])
    with pytest.raises(NotFound):
        store.delete(TIMELINE, "r1", "e1")


def test_expired_rows_are_purged_lazily_by_writes(store: SqliteStore, clock: FakeClock) -> None:
    for i in range(5):
        store.create(TIMELINE, {"id": f"e{i}", "rolloutId": "r1"})
    clock.advance(100 + PURGE_INTERVAL)
    assert rows(store, TIMELINE) == 5  # reads never delete
    store.query(TIMELINE, None)
    assert rows(store, TIMELINE) == 5
    store.create(TIMELINE, {"id": "fresh", "rolloutId": "r2"})
    assert rows(store, TIMELINE) == 1


def test_a_failed_bulk_write_leaves_nothing_behind(store: SqliteStore) -> None:
    docs = [{"id": "a", "source": "github"}, {"id": "b", "source": "github", "bad": {1, 2}}]
    with pytest.raises(TypeError):
        store.upsert_many(DELIVERIES, docs)
    assert store.query(DELIVERIES, None) == []


def test_a_locked_file_is_store_unavailable(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", busy_timeout=0.05)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.create(TRACKS, {"id": "baseline"})
        assert store.query(TRACKS, None) == []  # WAL: readers are not blocked
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.create(TRACKS, {"id": "baseline"})
    store.close()


def test_a_relative_path_or_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreMisconfigured, match="absolute path"):
        SqliteStore("relative.db")
    with pytest.raises(StoreMisconfigured, match="does not exist"):
        SqliteStore(tmp_path / "nowhere" / "s.db")


def test_a_closed_store_refuses_new_connections(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.close()
    with pytest.raises(Exception, match="closed"):
        store.get(TRACKS, "x", "x")


INCREMENTS = textwrap.dedent(
    """
    import sys
    from shared.store.sqlite import SqliteStore
    from shared.store import update_with_retry

    store = SqliteStore(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(int(sys.argv[2])):
        update_with_retry(
            store, "tracks", "counter", "counter",
            lambda d: {**d, "n": d["n"] + 1}, attempts=1000,
        )
    store.close()
    """
)


def test_two_processes_doing_compare_and_set_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = SqliteStore(path)
    store.create(TRACKS, {"id": "counter", "n": 0})
    rounds = 60
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", INCREMENTS, str(path), str(rounds)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:  # both are ready before either starts, so they really overlap
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    assert store.get(TRACKS, "counter", "counter")["n"] == 2 * rounds
    store.close()
