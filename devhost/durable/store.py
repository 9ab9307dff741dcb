"""SQLite (WAL) store for instances, histories, the orchestration inbox and the activity queue.

Every state change the engine makes goes through one `transaction()`; the inbox and the
activity queue live in the same database, so a commit moves state and work together and a
SIGKILL at any moment leaves either the old or the new state, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.durable.clock import Clock, SystemClock
from devhost.durable.instance import Instance, RuntimeStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    parent_instance TEXT,
    parent_execution TEXT,
    parent_task INTEGER,
    engine TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS instances_created ON instances (created);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    event TEXT NOT NULL,
    visible_at REAL NOT NULL,
    held INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (held, visible_at);
CREATE INDEX IF NOT EXISTS messages_instance ON messages (instance_id, id);
CREATE TABLE IF NOT EXISTS work (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT
);
CREATE INDEX IF NOT EXISTS work_instance ON work (instance_id);
CREATE TABLE IF NOT EXISTS timer_status (
    function TEXT PRIMARY KEY,
    last TEXT,
    next TEXT NOT NULL
);
"""

INSTANCE_COLUMNS = (
    "instance_id",
    "name",
    "execution_id",
    "status",
    "input",
    "output",
    "custom_status",
    "created",
    "updated",
    "parent_instance",
    "parent_execution",
    "parent_task",
    "engine",
    "version",
)


@dataclass
class Message:
    id: int
    instance_id: str
    execution_id: str | None
    event: dict[str, Any]


@dataclass
class WorkItem:
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


class StateLockedError(Exception):
    """Another process already serves this state folder."""


class Store:
    """Synchronous SQLite access; the engine calls it from the event-loop thread only.

    One process owns a state file at a time (an exclusive lock on `<file>.lock`, released by
    the OS when the process dies, so a SIGKILL never leaves it stale). `clock` decides which
    messages are visible (a timer message becomes visible at its fireAt).
    """

    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self._lock = path.with_name(path.name + ".lock").open("a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise StateLockedError(
                f"another devhost is using the state in {path.parent}; stop it or pass "
                "another --state folder"
            ) from None
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()
        self._lock.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # instances ---------------------------------------------------------------------------
    def get_instance(self, instance_id: str) -> Instance | None:
        row = self.db.execute(
            "SELECT * FROM instances WHERE instance_id = ?", (instance_id,)
        ).fetchone()
        return Instance.from_row(row) if row else None

    def put_instance(self, instance: Instance) -> None:
        row = instance.row()
        cols = ", ".join(INSTANCE_COLUMNS)
        marks = ", ".join("?" for _ in INSTANCE_COLUMNS)
        self.db.execute(
            f"INSERT OR REPLACE INTO instances ({cols}) VALUES ({marks})",
            tuple(row[c] for c in INSTANCE_COLUMNS),
        )

    def query_instances(
        self,
        *,
        created_from: str | None = None,
        created_to: str | None = None,
        statuses: Collection[RuntimeStatus] | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Instance]:
        """Instances matching the filters, ordered by instance id for paging."""
        sql = "SELECT * FROM instances WHERE 1=1"
        args: list[Any] = []
        if created_from:
            sql += " AND created >= ?"
            args.append(created_from)
        if created_to:
            sql += " AND created <= ?"
            args.append(created_to)
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            args += [status.value for status in statuses]
        if prefix:
            sql += " AND substr(instance_id, 1, ?) = ?"
            args += [len(prefix), prefix]
        if after:
            sql += " AND instance_id > ?"
            args.append(after)
        sql += " ORDER BY instance_id"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        return [Instance.from_row(r) for r in self.db.execute(sql, args)]

    def delete_instance(self, instance_id: str) -> None:
        for table in ("instances", "history", "messages", "work"):
            self.db.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))

    # history -----------------------------------------------------------------------------
    def load_history(self, instance_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
        )
        return [json.loads(r[0]) for r in rows]

    def append_history(self, instance_id: str, start: int, events: list[dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
            [(instance_id, start + i, json.dumps(e)) for i, e in enumerate(events)],
        )

    def clear_history(self, instance_id: str) -> None:
        self.db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))

    # inbox -------------------------------------------------------------------------------
    def add_message(
        self,
        instance_id: str,
        execution_id: str | None,
        event: dict[str, Any],
        visible_at: float | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO messages (instance_id, execution_id, event, visible_at) VALUES (?,?,?,?)",
            (instance_id, execution_id, json.dumps(event), visible_at or 0.0),
        )

    def ready_instances(self, exclude: set[str], limit: int) -> list[str]:
        """Instances with at least one visible, unheld message, oldest message first."""
        rows = self.db.execute(
            "SELECT instance_id, MIN(id) AS first FROM messages "
            "WHERE held = 0 AND visible_at <= ? GROUP BY instance_id ORDER BY first",
            (self.clock.time(),),
        )
        out = []
        for r in rows:
            if r[0] not in exclude:
                out.append(r[0])
                if len(out) >= limit:
                    break
        return out

    def next_visible_at(self) -> float | None:
        row = self.db.execute(
            "SELECT MIN(visible_at) FROM messages WHERE held = 0 AND visible_at > ?",
            (self.clock.time(),),
        ).fetchone()
        return row[0] if row and row[0] is not None else None

    def messages_for(self, instance_id: str) -> list[Message]:
        rows = self.db.execute(
            "SELECT id, instance_id, execution_id, event FROM messages "
            "WHERE instance_id = ? AND held = 0 AND visible_at <= ? ORDER BY id",
            (instance_id, self.clock.time()),
        )
        return [Message(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def delete_messages(self, ids: list[int]) -> int:
        deleted = 0
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            cur = self.db.execute(
                f"DELETE FROM messages WHERE id IN ({', '.join('?' for _ in part)})", part
            )
            deleted += cur.rowcount
        return deleted

    def hold_messages(self, ids: list[int]) -> None:
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            self.db.execute(
                f"UPDATE messages SET held = 1 WHERE id IN ({', '.join('?' for _ in part)})", part
            )

    def release_messages(self, instance_id: str) -> None:
        self.db.execute("UPDATE messages SET held = 0 WHERE instance_id = ?", (instance_id,))

    def delete_execution_messages(self, instance_id: str, execution_id: str) -> None:
        """Drop what is still queued for one execution: its timers and late completions."""
        self.db.execute(
            "DELETE FROM messages WHERE instance_id = ? AND execution_id = ?",
            (instance_id, execution_id),
        )

    def delete_bound_messages(self, instance_id: str) -> None:
        """Drop the timers and completions of every execution; raised events and controls stay."""
        self.db.execute(
            "DELETE FROM messages WHERE instance_id = ? AND execution_id IS NOT NULL",
            (instance_id,),
        )

    def delete_timer_message(self, instance_id: str, execution_id: str, timer_id: int) -> None:
        self.db.execute(
            "DELETE FROM messages WHERE instance_id = ? AND execution_id = ? "
            "AND json_extract(event, '$.EventType') = 11 "
            "AND json_extract(event, '$.TimerId') = ?",
            (instance_id, execution_id, timer_id),
        )

    # activity queue ----------------------------------------------------------------------
    def add_work(
        self, instance_id: str, execution_id: str, task_id: int, name: str, input_: str | None
    ) -> None:
        self.db.execute(
            "INSERT INTO work (instance_id, execution_id, task_id, name, input) VALUES (?,?,?,?,?)",
            (instance_id, execution_id, task_id, name, input_),
        )

    def pending_work(self, exclude: set[int], limit: int) -> list[WorkItem]:
        rows = self.db.execute("SELECT * FROM work ORDER BY id LIMIT ?", (limit + len(exclude),))
        items = [
            WorkItem(
                r["id"], r["instance_id"], r["execution_id"], r["task_id"], r["name"], r["input"]
            )
            for r in rows
            if r["id"] not in exclude
        ]
        return items[:limit]

    def has_work(self, instance_id: str) -> bool:
        """True while activities of the instance are queued or running."""
        row = self.db.execute(
            "SELECT 1 FROM work WHERE instance_id = ? LIMIT 1", (instance_id,)
        ).fetchone()
        return row is not None

    def delete_work(self, work_id: int) -> bool:
        return self.db.execute("DELETE FROM work WHERE id = ?", (work_id,)).rowcount == 1

    # timer triggers ----------------------------------------------------------------------
    def timer_status(self, function: str) -> tuple[str | None, str] | None:
        row = self.db.execute(
            "SELECT last, next FROM timer_status WHERE function = ?", (function,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def set_timer_status(self, function: str, last: str | None, next_: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO timer_status (function, last, next) VALUES (?,?,?)",
            (function, last, next_),
        )

    def counts(self) -> dict[str, int]:
        """Row counts, for the status endpoint and the benchmark."""
        out = {}
        for table in ("instances", "history", "messages", "work"):
            out[table] = self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        return out
