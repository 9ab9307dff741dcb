"""The durable engine in-process: episodes driven one at a time, so batching is deterministic."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest

from devhost.config import HostConfig
from devhost.durable.engine import Engine, EngineError
from devhost.durable.history import EventType
from devhost.durable.instance import Instance, RuntimeStatus
from devhost.durable.store import StateLockedError, Store
from devhost.loader import index_functions

app = df.DFApp()
FAILURES: Counter[str] = Counter()


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    state = context.get_input()
    amount = yield context.wait_for_external_event("Add")
    state["total"] += amount
    state["generations"] += 1
    if state["total"] >= state["limit"]:
        return state
    context.continue_as_new(state)
    return None


@app.orchestration_trigger(context_name="context")
def work_or_event(context: df.DurableOrchestrationContext):
    """Like a track: run work while listening for events; continue as new when work is done."""
    state = context.get_input()
    if state["queue"]:
        return state
    work = context.call_activity("echo", state["generation"])
    waiter = context.wait_for_external_event("Next")
    winner = yield context.task_any([work, waiter])
    if winner == waiter:
        state["queue"].append(waiter.result)
        return state
    context.continue_as_new({"queue": [], "generation": state["generation"] + 1})
    return None


@app.orchestration_trigger(context_name="context")
def retry_then_more(context: df.DurableOrchestrationContext):
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=2)
    flaky = context.call_activity_with_retry("fail_once", retry, context.instance_id)
    plain = context.call_activity("echo", "b")
    results = yield context.task_all([flaky, plain])
    last = yield context.call_activity("echo", "c")
    return [*results, last]


@app.orchestration_trigger(context_name="context")
def one_activity(context: df.DurableOrchestrationContext):
    value = yield context.call_activity("echo", context.get_input())
    return value


@app.orchestration_trigger(context_name="context")
def waits(context: df.DurableOrchestrationContext):
    value = yield context.wait_for_external_event("Go")
    return value


@app.activity_trigger(input_name="value")
def echo(value: Any) -> Any:
    return value


@app.activity_trigger(input_name="key")
def fail_once(key: str) -> str:
    FAILURES[key] += 1
    if FAILURES[key] == 1:
        raise RuntimeError("first attempt fails")
    return "recovered"


INDEX = index_functions(app)
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def make_engine(state: Path) -> Engine:
    config = HostConfig(app_dir=state, state_dir=state, max_activities=4, max_orchestrators=4)
    return Engine(config, INDEX, Store(state / "engine.sqlite3"))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(tmp_path)
    yield eng
    eng.close()
    eng.store.close()


async def step(engine: Engine, instance_id: str) -> bool:
    """One episode for the instance if it has visible messages."""
    if not engine.store.messages_for(instance_id):
        return False
    await engine.run_episode(instance_id)
    return True


async def run_work(engine: Engine, order: list[str] | None = None) -> int:
    """Run every queued activity, optionally in the order of their inputs."""
    items = engine.store.pending_work(set(), 1000)
    if order is not None:
        items.sort(key=lambda w: order.index(json.loads(w.input or "null")))
    for item in items:
        await engine.run_activity(item)
    return len(items)


async def drain(engine: Engine, instance_id: str, timeout: float = 10.0) -> Instance:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        moved = await step(engine, instance_id)
        moved = bool(await run_work(engine)) or moved
        inst = engine.instance(instance_id)
        if inst.finished:
            return inst
        if not moved:
            await asyncio.sleep(0.02)
    raise AssertionError(f"instance {instance_id} did not finish")


def history_kinds(engine: Engine, instance_id: str) -> list[EventType]:
    return [EventType(e["EventType"]) for e in engine.store.load_history(instance_id)]


def test_one_episode_takes_every_waiting_message(engine: Engine) -> None:
    """ExecutionStarted and three early events are processed in a single episode."""

    async def scenario() -> None:
        engine.start_instance(
            "counter", "c1", json.dumps({"total": 0, "generations": 0, "limit": 6})
        )
        for amount in (1, 2, 3):
            engine.raise_event("c1", "Add", json.dumps(amount))
        await step(engine, "c1")
        assert engine.stats["episodes"] == 1
        assert engine.instance("c1").status == RuntimeStatus.Running
        done = await drain(engine, "c1")
        assert json.loads(done.output) == {"total": 6, "generations": 3, "limit": 6}

    asyncio.run(scenario())


def test_continue_as_new_starts_a_fresh_history(engine: Engine) -> None:
    """Only the last generation's history is kept, starting with its own ExecutionStarted."""

    async def scenario() -> None:
        engine.start_instance(
            "counter", "c2", json.dumps({"total": 0, "generations": 0, "limit": 2})
        )
        await step(engine, "c2")
        engine.raise_event("c2", "Add", "1")
        await step(engine, "c2")
        assert engine.instance("c2").status == RuntimeStatus.Running
        engine.raise_event("c2", "Add", "1")
        done = await drain(engine, "c2")
        assert json.loads(done.output)["generations"] == 2
        kinds = history_kinds(engine, "c2")
        assert kinds.count(EventType.ExecutionStarted) == 1
        assert kinds.count(EventType.EventRaised) == 1

    asyncio.run(scenario())


def test_retry_ids_are_reserved_before_new_actions(engine: Engine) -> None:
    """A batch [TaskCompleted(b), TaskFailed(a, retryable)] still gives the retry timer the next id.

    The SDK reserves the retry timer id when it processes TaskFailed; devhost puts such events
    first in the batch, so the activity scheduled after task_all gets the id after the retry's.
    """

    async def scenario() -> None:
        engine.start_instance("retry_then_more", "r1", None)
        await step(engine, "r1")
        assert await run_work(engine, order=["b", "r1"]) == 2
        done = await drain(engine, "r1")
        assert done.status == RuntimeStatus.Completed, done.output
        assert json.loads(done.output) == ["recovered", "b", "c"]
        events = engine.store.load_history("r1")
        timers = [e["EventId"] for e in events if e["EventType"] == EventType.TimerCreated]
        tasks = {
            e["EventId"]: json.loads(e["Input"])
            for e in events
            if e["EventType"] == EventType.TaskScheduled
        }
        assert timers == [2]
        assert tasks == {0: "r1", 1: "b", 3: "r1", 4: "c"}

    asyncio.run(scenario())


def test_duplicate_completion_is_dropped(engine: Engine) -> None:
    """A second TaskCompleted for the same task id (an activity that ran twice) is ignored."""

    async def scenario() -> None:
        engine.start_instance("one_activity", "d1", json.dumps("x"))
        await step(engine, "d1")
        item = engine.store.pending_work(set(), 10)[0]
        await engine.run_activity(item)
        with engine.store.transaction():
            engine.store.add_work(item.instance_id, item.execution_id, item.task_id, "echo", '"y"')
        await run_work(engine)
        done = await drain(engine, "d1")
        assert json.loads(done.output) == "x"
        assert history_kinds(engine, "d1").count(EventType.TaskCompleted) == 1

    asyncio.run(scenario())


def test_restart_on_the_same_state_continues(tmp_path: Path) -> None:
    """An engine that stops after scheduling leaves work a new engine on the same file finishes."""

    async def scenario() -> None:
        first = make_engine(tmp_path)
        first.start_instance("one_activity", "s1", json.dumps(7))
        await step(first, "s1")
        first.close()
        first.store.close()
        second = make_engine(tmp_path)
        try:
            done = await drain(second, "s1")
            assert json.loads(done.output) == 7
        finally:
            second.close()
            second.store.close()

    asyncio.run(scenario())


def test_suspend_holds_events_and_terminate_ends(engine: Engine) -> None:
    async def scenario() -> None:
        engine.start_instance("waits", "w1", None)
        await step(engine, "w1")
        engine.control("w1", EventType.ExecutionSuspended, "pause")
        await step(engine, "w1")
        assert engine.instance("w1").status == RuntimeStatus.Suspended
        engine.raise_event("w1", "Go", '"held"')
        await step(engine, "w1")
        assert engine.instance("w1").status == RuntimeStatus.Suspended
        assert not engine.store.messages_for("w1")
        engine.control("w1", EventType.ExecutionResumed, "go on")
        done = await drain(engine, "w1")
        assert json.loads(done.output) == "held"

    asyncio.run(scenario())


def test_terminate_and_finished_instances_refuse_changes(engine: Engine) -> None:
    async def scenario() -> None:
        engine.start_instance("waits", "t1", None)
        await step(engine, "t1")
        engine.control("t1", EventType.ExecutionTerminated, "stop")
        await step(engine, "t1")
        inst = engine.instance("t1")
        assert inst.status == RuntimeStatus.Terminated
        assert json.loads(inst.output) == "stop"
        with pytest.raises(EngineError) as gone:
            engine.raise_event("t1", "Go", "1")
        assert gone.value.status == 410
        with pytest.raises(EngineError) as missing:
            engine.control("nope", EventType.ExecutionSuspended, None)
        assert missing.value.status == 404

    asyncio.run(scenario())


@pytest.mark.parametrize("bad", ["@entity", "a/b", "a#b", "x" * 101, "tab\there"])
def test_invalid_instance_ids_are_rejected(engine: Engine, bad: str) -> None:
    with pytest.raises(EngineError) as err:
        engine.start_instance("waits", bad, None)
    assert err.value.status == 400


def test_unknown_orchestrator_is_400(engine: Engine) -> None:
    with pytest.raises(EngineError) as err:
        engine.start_instance("missing", "m1", None)
    assert err.value.status == 400
    assert "'missing' doesn't exist" in str(err.value)


def test_event_arriving_with_the_completion_that_ends_a_generation_is_carried_over(
    engine: Engine,
) -> None:
    """Batch [TaskCompleted, EventRaised]: the orchestrator continues as new on the completion,
    so the event belongs to the next execution (DTFx Carryover), not to the old waiter."""

    async def scenario() -> None:
        engine.start_instance("work_or_event", "k1", json.dumps({"queue": [], "generation": 0}))
        await step(engine, "k1")
        await run_work(engine)
        engine.raise_event("k1", "Next", json.dumps("rev-2"))
        await step(engine, "k1")
        assert engine.instance("k1").status == RuntimeStatus.Running
        assert json.loads(engine.instance("k1").input)["generation"] == 1
        done = await drain(engine, "k1")
        assert json.loads(done.output) == {"queue": ["rev-2"], "generation": 1}

    asyncio.run(scenario())


def test_event_arriving_before_the_completion_is_consumed_in_place(engine: Engine) -> None:
    """Batch [EventRaised, TaskCompleted]: the waiter wins the race in the old execution."""

    async def scenario() -> None:
        engine.start_instance("work_or_event", "k2", json.dumps({"queue": [], "generation": 0}))
        await step(engine, "k2")
        engine.raise_event("k2", "Next", json.dumps("rev-2"))
        await run_work(engine)
        done = await drain(engine, "k2")
        assert json.loads(done.output) == {"queue": ["rev-2"], "generation": 0}

    asyncio.run(scenario())


def test_one_process_owns_a_state_file(tmp_path: Path) -> None:
    """A second Store on the same file is refused with a message naming the folder."""
    first = Store(tmp_path / "s.sqlite3")
    try:
        with pytest.raises(StateLockedError) as err:
            Store(tmp_path / "s.sqlite3")
        assert str(tmp_path) in str(err.value) and "--state" in str(err.value)
    finally:
        first.close()
    Store(tmp_path / "s.sqlite3").close()
