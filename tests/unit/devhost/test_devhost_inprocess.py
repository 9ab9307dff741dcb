"""The in-process harness: whole orchestrations on a virtual clock, without HTTP or sleeping."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest

from devhost.durable.clock import DEFAULT_START, VirtualClock
from devhost.durable.history import EventType
from devhost.durable.management import MAX_INSTANCE_ID_LENGTH, EngineError
from devhost.inprocess import InProcessEngine, InProcessError, RunawayError
from devhost.loader import index_functions

app = df.DFApp()
ATTEMPTS: Counter[str] = Counter()
#: The harness clock of the running test, for activities that take virtual time.
CLOCKS: dict[str, VirtualClock] = {}


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("shout", context.get_input())
    second = yield context.call_activity("shout_async", f"{first} again")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    n = context.get_input()
    results = yield context.task_all([context.call_activity("square", i) for i in range(n)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    start = context.current_utc_datetime
    yield context.create_timer(start + timedelta(hours=1))
    return {"start": start.isoformat(), "woke": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    hours = context.get_input()["hours"]
    timer = context.create_timer(context.current_utc_datetime + timedelta(hours=hours))
    answer = context.wait_for_external_event("approve")
    context.set_custom_status("waiting")
    winner = yield context.task_any([answer, timer])
    if winner == answer:
        timer.cancel()
        return {"approved": answer.result}
    return {"approved": None, "timed_out": True}


@app.orchestration_trigger(context_name="context")
def waiter(context: df.DurableOrchestrationContext):
    context.set_custom_status("parked")
    value = yield context.wait_for_external_event("go")
    return value


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    named = yield context.call_sub_orchestrator("chain", "named", spec.get("child_id"))
    auto = yield context.call_sub_orchestrator("fan_out", 3)
    return {"named": named, "auto": auto}


@app.orchestration_trigger(context_name="context")
def parent_of_waiter(context: df.DurableOrchestrationContext):
    value = yield context.call_sub_orchestrator("waiter", None, context.get_input())
    return value


@app.orchestration_trigger(context_name="context")
def countdown(context: df.DurableOrchestrationContext):
    n = context.get_input()
    if n == 0:
        return "liftoff"
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
    context.continue_as_new(n - 1)
    return None


@app.orchestration_trigger(context_name="context")
def calls_flaky(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    if spec.get("attempts"):
        retry = df.RetryOptions(
            first_retry_interval_in_milliseconds=30_000,
            max_number_of_attempts=spec["attempts"],
        )
        result = yield context.call_activity_with_retry("flaky", retry, spec)
    else:
        result = yield context.call_activity("flaky", spec)
    return result


@app.orchestration_trigger(context_name="context")
def catches(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("flaky", context.get_input())
    except Exception as exc:
        return {"caught": str(exc).split("\n")[0].strip()}
    return {"caught": None}


@app.orchestration_trigger(context_name="context")
def timed_work(context: df.DurableOrchestrationContext):
    before = context.current_utc_datetime
    seen = yield context.call_activity("takes_time", context.get_input())
    return [before.isoformat(), seen, context.current_utc_datetime.isoformat()]


@app.orchestration_trigger(context_name="context")
def forever(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    context.continue_as_new(context.get_input() + 1)
    return None


@app.orchestration_trigger(context_name="context")
def spin(context: df.DurableOrchestrationContext):
    yield context.call_activity("square", 1)
    context.continue_as_new(None)
    return None


@app.activity_trigger(input_name="text")
def shout(text: str) -> str:
    return text.upper()


@app.activity_trigger(input_name="text")
async def shout_async(text: str) -> str:
    await asyncio.sleep(0)
    return text.upper()


@app.activity_trigger(input_name="spec")
def takes_time(spec: dict[str, Any]) -> str:
    clock = CLOCKS[spec["key"]]
    clock.advance(spec["seconds"])
    return clock.utcnow().isoformat()


@app.activity_trigger(input_name="value")
def square(value: int) -> int:
    return value * value


@app.activity_trigger(input_name="spec")
def flaky(spec: dict[str, Any]) -> str:
    ATTEMPTS[spec["key"]] += 1
    if ATTEMPTS[spec["key"]] <= spec["fail"]:
        raise RuntimeError(f"attempt {ATTEMPTS[spec['key']]} failed")
    return f"ok after {ATTEMPTS[spec['key']]}"


INDEX = index_functions(app)
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[InProcessEngine]:
    with InProcessEngine(INDEX, tmp_path) as eng:
        yield eng


def kinds(engine: InProcessEngine, instance_id: str) -> list[EventType]:
    return [EventType(e["EventType"]) for e in engine.history(instance_id)]


def test_chaining_completes_with_the_activity_results(engine: InProcessEngine) -> None:
    engine.start("chain", "c1", "hi")
    engine.run_until_idle()
    status = engine.status("c1")
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["HI", "HI AGAIN"]
    assert status["input"] == "hi"
    assert engine.clock.utcnow() == DEFAULT_START


def test_fan_out_completions_join_one_episode(engine: InProcessEngine) -> None:
    engine.start("fan_out", "f1", 20)
    engine.run_until_idle()
    assert engine.status("f1")["output"] == sum(i * i for i in range(20))
    assert kinds(engine, "f1").count(EventType.OrchestratorStarted) == 2


def test_an_hour_long_timer_fires_in_virtual_time(engine: InProcessEngine) -> None:
    engine.start("sleeper", "s1")
    engine.run_until_idle()
    out = engine.status("s1")["output"]
    assert out == {
        "start": DEFAULT_START.isoformat(),
        "woke": (DEFAULT_START + timedelta(hours=1)).isoformat(),
    }
    assert engine.clock.utcnow() == DEFAULT_START + timedelta(hours=1)


def test_the_clock_starts_where_the_test_says(tmp_path: Path) -> None:
    start = DEFAULT_START + timedelta(days=400, seconds=1.5)
    with InProcessEngine(INDEX, tmp_path, clock=VirtualClock(start)) as engine:
        engine.start("sleeper", "s2")
        engine.run_until_idle()
        assert engine.status("s2")["output"]["start"] == start.isoformat()
        assert engine.clock.utcnow() == start + timedelta(hours=1)


def test_an_external_event_beats_the_timer(engine: InProcessEngine) -> None:
    engine.start("approval", "a1", {"hours": 24})
    engine.run_until(lambda: engine.status("a1")["customStatus"] == "waiting")
    engine.raise_event("a1", "approve", {"by": "ops"})
    engine.run_until_idle()
    assert engine.status("a1")["output"] == {"approved": {"by": "ops"}}
    assert engine.clock.utcnow() == DEFAULT_START  # the cancelled timer never fired


def test_without_the_event_the_timer_wins(engine: InProcessEngine) -> None:
    engine.start("approval", "a2", {"hours": 24})
    done = engine.wait_for("a2")
    assert done["output"] == {"approved": None, "timed_out": True}
    assert engine.clock.utcnow() == DEFAULT_START + timedelta(hours=24)


def test_run_until_idle_leaves_instances_that_wait_for_events(engine: InProcessEngine) -> None:
    engine.start("waiter", "w1")
    engine.run_until_idle()
    assert engine.status("w1")["runtimeStatus"] == "Running"
    assert engine.status("w1")["customStatus"] == "parked"
    assert not engine.step()
    with pytest.raises(InProcessError, match="went idle"):
        engine.wait_for("w1")


def test_activities_take_virtual_time_only_when_they_advance_the_clock(
    engine: InProcessEngine, tmp_path: Path
) -> None:
    CLOCKS[str(tmp_path)] = engine.clock
    engine.start("timed_work", "tw", {"key": str(tmp_path), "seconds": 90})
    engine.run_until_idle()
    later = (DEFAULT_START + timedelta(seconds=90)).isoformat()
    assert engine.status("tw")["output"] == [DEFAULT_START.isoformat(), later, later]


def test_sub_orchestrations_with_and_without_ids(engine: InProcessEngine) -> None:
    engine.start("parent", "p1", {"child_id": "p1-named"})
    engine.run_until_idle()
    assert engine.status("p1")["output"] == {"named": ["NAMED", "NAMED AGAIN"], "auto": 5}
    assert engine.status("p1-named")["runtimeStatus"] == "Completed"
    auto = [i for i in engine.instance_ids if i.endswith(":1")]
    assert len(auto) == 1 and engine.status(auto[0])["output"] == 5
    assert sorted(engine.instance_ids) == sorted(["p1", "p1-named", auto[0]])


def test_continue_as_new_keeps_only_the_last_generation(engine: InProcessEngine) -> None:
    engine.start("countdown", "n1", 3)
    engine.run_until_idle()
    assert engine.status("n1")["output"] == "liftoff"
    assert kinds(engine, "n1").count(EventType.ExecutionStarted) == 1
    assert engine.clock.utcnow() == DEFAULT_START + timedelta(minutes=3)


def test_activity_failure_fails_the_orchestration_or_is_caught(
    engine: InProcessEngine, tmp_path: Path
) -> None:
    engine.start("calls_flaky", "x1", {"key": f"{tmp_path}-x1", "fail": 1})
    engine.start("catches", "x2", {"key": f"{tmp_path}-x2", "fail": 1})
    engine.run_until_idle()
    failed = engine.status("x1")
    assert failed["runtimeStatus"] == "Failed"
    assert "Activity function 'flaky' failed: RuntimeError: attempt 1 failed" in failed["output"]
    assert engine.status("x2")["output"] == {
        "caught": "Activity function 'flaky' failed: RuntimeError: attempt 1 failed"
    }


def test_retry_options_retry_after_their_interval_in_virtual_time(
    engine: InProcessEngine, tmp_path: Path
) -> None:
    key = f"{tmp_path}-r1"
    engine.start("calls_flaky", "r1", {"key": key, "fail": 2, "attempts": 3})
    engine.run_until_idle()
    assert engine.status("r1")["output"] == "ok after 3"
    assert ATTEMPTS[key] == 3
    assert engine.clock.utcnow() == DEFAULT_START + timedelta(seconds=60)


def test_retries_that_run_out_fail_the_orchestration(
    engine: InProcessEngine, tmp_path: Path
) -> None:
    key = f"{tmp_path}-r2"
    engine.start("calls_flaky", "r2", {"key": key, "fail": 5, "attempts": 2})
    engine.run_until_idle()
    status = engine.status("r2")
    assert status["runtimeStatus"] == "Failed"
    assert "attempt 2 failed" in status["output"]
    assert ATTEMPTS[key] == 2


def test_terminating_a_child_fails_its_parent(engine: InProcessEngine) -> None:
    engine.start("parent_of_waiter", "t1", "t1-child")
    engine.run_until_idle()
    assert engine.status("t1-child")["runtimeStatus"] == "Running"
    engine.terminate("t1-child", "no longer needed")
    engine.run_until_idle()
    assert engine.status("t1-child")["runtimeStatus"] == "Terminated"
    assert engine.status("t1-child")["output"] == "no longer needed"
    parent = engine.status("t1")
    assert parent["runtimeStatus"] == "Failed"
    assert "Instance was terminated: no longer needed" in parent["output"]


def test_suspend_holds_events_until_resume(engine: InProcessEngine) -> None:
    engine.start("waiter", "u1")
    engine.run_until_idle()
    engine.suspend("u1", "maintenance")
    engine.run_until_idle()
    assert engine.status("u1")["runtimeStatus"] == "Suspended"
    engine.raise_event("u1", "go", "held")
    engine.run_until_idle()
    assert engine.status("u1")["runtimeStatus"] == "Suspended"
    engine.resume("u1", "done")
    engine.run_until_idle()
    assert engine.status("u1")["output"] == "held"
    assert EventType.ExecutionResumed in kinds(engine, "u1")


def test_instance_ids_of_up_to_100_characters_start(engine: InProcessEngine) -> None:
    longest = "i" * MAX_INSTANCE_ID_LENGTH
    assert engine.start("chain", longest, "x") == longest
    with pytest.raises(EngineError) as err:
        engine.start("chain", longest + "i", "x")
    assert err.value.status == 400
    assert "101 characters long" in str(err.value)
    assert "between 1 and 100 characters" in str(err.value)
    engine.run_until_idle()
    assert engine.status(longest)["runtimeStatus"] == "Completed"


def test_sub_orchestration_id_over_100_characters_fails_the_parent(
    engine: InProcessEngine,
) -> None:
    engine.start("parent_of_waiter", "ok", "c" * 100)
    engine.start("parent_of_waiter", "too-long", "c" * 101)
    engine.run_until_idle()
    assert engine.status("ok")["runtimeStatus"] == "Running"
    failed = engine.status("too-long")
    assert failed["runtimeStatus"] == "Failed"
    assert "between 1 and 100 characters" in failed["output"]
    assert "c" * 101 not in engine.instance_ids
    failure = [e for e in engine.history("too-long") if e["EventType"] == 9]
    assert len(failure) == 1 and "101 characters long" in failure[0]["Reason"]


def test_a_runaway_timer_loop_fails_on_the_step_budget(engine: InProcessEngine) -> None:
    engine.start("forever", "loop", 0)
    with pytest.raises(RunawayError, match="within 50 steps") as err:
        engine.run_until_idle(max_steps=50)
    assert "loop (forever): Running" in str(err.value)


def test_a_runaway_timer_loop_fails_on_the_virtual_time_budget(engine: InProcessEngine) -> None:
    engine.start("forever", "loop", 0)
    with pytest.raises(RunawayError, match="virtual-time budget"):
        engine.run_until_idle(max_virtual_seconds=3600)
    assert engine.clock.utcnow() <= DEFAULT_START + timedelta(hours=1)


def test_a_runaway_without_timers_fails_on_the_harness_budget(tmp_path: Path) -> None:
    with InProcessEngine(INDEX, tmp_path, max_steps=200) as engine:
        engine.start("spin", "spin")
        with pytest.raises(RunawayError, match="within 200 steps"):
            engine.run_until(lambda: engine.status("spin")["runtimeStatus"] == "Completed")


def test_run_until_stops_as_soon_as_the_predicate_holds(engine: InProcessEngine) -> None:
    engine.start("countdown", "n2", 10)
    engine.run_until(lambda: engine.clock.utcnow() >= DEFAULT_START + timedelta(minutes=4))
    assert engine.clock.utcnow() == DEFAULT_START + timedelta(minutes=4)
    assert engine.status("n2")["runtimeStatus"] == "Running"


def test_runs_are_reproducible(tmp_path: Path) -> None:
    """The same scenario twice gives the same ids and the same histories, timestamps included."""

    def scenario(state: Path | None) -> tuple[list[str], list[list[dict[str, Any]]]]:
        with InProcessEngine(INDEX, state) as engine:
            engine.start("parent", None, {})
            engine.start("approval", "a", {"hours": 2})
            engine.run_until_idle()
            ids = engine.instance_ids
            return ids, [engine.history(i) for i in ids]

    assert scenario(tmp_path / "one") == scenario(None)  # None: a temporary state folder


def test_unknown_instances_and_finished_ones(engine: InProcessEngine) -> None:
    with pytest.raises(EngineError) as missing:
        engine.status("nope")
    assert missing.value.status == 404
    engine.start("chain", "done", "x")
    engine.run_until_idle()
    with pytest.raises(EngineError) as gone:
        engine.raise_event("done", "go")
    assert gone.value.status == 410


def test_the_harness_refuses_to_run_inside_an_event_loop(engine: InProcessEngine) -> None:
    engine.start("chain", "in-loop", "x")

    async def inside() -> None:
        engine.step()

    with pytest.raises(RuntimeError, match="synchronous"):
        asyncio.run(inside())
    engine.run_until_idle()
    assert engine.status("in-loop")["runtimeStatus"] == "Completed"
