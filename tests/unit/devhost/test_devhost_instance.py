"""The instance record against the `instances` table, and the harnesses' shared lifecycle."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import azure.durable_functions as df
import pytest

from devhost.durable.instance import TERMINAL, Instance, Parent, RuntimeStatus
from devhost.durable.store import INSTANCE_COLUMNS, Store
from devhost.harness import Harness
from devhost.inprocess import InProcessEngine
from devhost.loader import index_functions

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def idle(context: df.DurableOrchestrationContext):
    return None


INDEX = index_functions(app)

CHILD = Instance(
    instance_id="child",
    name="work",
    execution_id="e2",
    status=RuntimeStatus.Running,
    input='{"n": 1}',
    created="2024-01-01T00:00:00.000000Z",
    updated="2024-01-01T00:00:01.000000Z",
    output=None,
    custom_status='"halfway"',
    parent=Parent("parent", "e1", 3),
    engine='{"next_id": 2}',
    version=4,
)


def test_the_record_round_trips_through_the_unchanged_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    try:
        columns = [r[1] for r in store.db.execute("PRAGMA table_info(instances)")]
        assert tuple(columns) == INSTANCE_COLUMNS
        top = dataclasses.replace(CHILD, instance_id="top", parent=None)
        with store.transaction():
            store.put_instance(CHILD)
            store.put_instance(top)
        assert store.get_instance("child") == CHILD
        assert store.get_instance("top") == top
        row = store.db.execute(
            "SELECT status, parent_instance, parent_execution, parent_task FROM instances "
            "WHERE instance_id = 'child'"
        ).fetchone()
        assert tuple(row) == ("Running", "parent", "e1", 3)
        assert [i.instance_id for i in store.query_instances(statuses=[RuntimeStatus.Running])] == [
            "child",
            "top",
        ]
        assert store.query_instances(statuses=[RuntimeStatus.Completed]) == []
    finally:
        store.close()


def test_revised_is_the_next_version_and_the_old_record_stays() -> None:
    done = CHILD.revised("2024-01-02T00:00:00.000000Z", status=RuntimeStatus.Completed)
    assert (done.version, done.updated, done.status) == (
        5,
        "2024-01-02T00:00:00.000000Z",
        "Completed",
    )
    assert done.finished and not CHILD.finished
    assert CHILD.version == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        CHILD.status = RuntimeStatus.Failed  # type: ignore[misc]


def test_the_row_holds_the_columns_as_the_table_does() -> None:
    row = CHILD.row()
    assert row["status"] == "Running" and type(row["status"]) is str
    assert row["parent_task"] == 3


def test_runtime_status_names_parse_in_any_case() -> None:
    assert RuntimeStatus.parse(" continuedasnew ") is RuntimeStatus.ContinuedAsNew
    assert RuntimeStatus.parse("RUNNING") is RuntimeStatus.Running
    assert RuntimeStatus.parse("done") is None
    assert [s.value for s in TERMINAL] == ["Completed", "Failed", "Terminated", "Canceled"]


def test_a_harness_releases_what_it_opened_newest_first_and_once() -> None:
    released: list[str] = []

    class Probe(Harness):
        def __init__(self) -> None:
            super().__init__()
            self.folder = self._state_folder(None, "devhost-probe-")
            self._opened.callback(released.append, "first")
            self._opened.callback(released.append, "second")

    with Probe() as probe:
        assert probe.folder.is_dir()
    assert released == ["second", "first"]
    assert not probe.folder.exists()
    probe.close()
    assert released == ["second", "first"]


def test_the_in_process_engine_removes_its_temporary_state_on_exit() -> None:
    with InProcessEngine(INDEX) as engine:
        state = engine.engine.store.path.parent
        engine.start("idle", "i1")
        assert engine.wait_for("i1")["runtimeStatus"] == "Completed"
        assert state.is_dir()
    assert not state.exists()
    engine.close()


def test_a_given_state_folder_is_kept(tmp_path: Path) -> None:
    with InProcessEngine(INDEX, tmp_path) as engine:
        engine.start("idle", "i1")
    assert (tmp_path / "devhost.sqlite3").exists()
