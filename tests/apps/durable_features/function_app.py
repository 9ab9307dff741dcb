"""A function app that uses every trigger and Durable feature devhost supports.

The integration tests in tests/integration/devhost/ drive it over HTTP; the `client/{op}`
route exposes each `DurableOrchestrationClient` call so tests use the real client.
"""

import asyncio
import json
import os
import time
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

RECORDED: dict[str, list] = {"eventgrid": [], "timers": []}
ATTEMPTS: dict[str, int] = {}
REPLAYS: dict[str, int] = {}


def _json(value, status=200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(value, default=str), status_code=status, mimetype="application/json"
    )


def _mark(name: str) -> None:
    """Append a line to $DEVHOST_TEST_MARKS so tests can see activity runs across restarts."""
    path = os.environ.get("DEVHOST_TEST_MARKS")
    if path:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(name + "\n")


# HTTP triggers --------------------------------------------------------------------------------
@app.route(route="hello/{name:alpha}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def hello(req: func.HttpRequest) -> func.HttpResponse:
    greeting = os.environ.get("DEVHOST_TEST_GREETING", "?")
    return func.HttpResponse(f"{greeting} {req.route_params['name']}")


@app.route(route="items/{id:int}/{label?}", methods=["GET", "POST"])
def items(req: func.HttpRequest) -> func.HttpResponse:
    return _json(
        {
            "method": req.method,
            "route": dict(req.route_params),
            "query": dict(req.params),
            "header": req.headers.get("X-Test"),
            "body": req.get_body().decode("latin-1"),
        }
    )


@app.route(route="items/special", methods=["GET"])
def items_special(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("special")


@app.route(route="echo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def echo(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    return func.HttpResponse(
        req.get_body(),
        status_code=201,
        headers={"X-Echo": "yes"},
        mimetype="application/octet-stream",
    )


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> str:
    return "admin"


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom")


@app.route(route="recorded/{kind}", methods=["GET", "DELETE"], auth_level=func.AuthLevel.ANONYMOUS)
def recorded(req: func.HttpRequest) -> func.HttpResponse:
    kind = req.route_params["kind"]
    if req.method == "DELETE":
        RECORDED[kind].clear()
    return _json(RECORDED[kind])


# Durable client ---------------------------------------------------------------------------------
@app.route(
    route="orchestrators/{name}/{instance_id?}",
    methods=["POST"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
@app.durable_client_input(client_name="client")
async def http_start(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(
        req.route_params["name"],
        req.route_params.get("instance_id"),
        json.loads(body) if body else None,
    )
    return client.create_check_status_response(req, instance_id)


@app.route(route="client/{op}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def client_op(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """One route per client call, so tests exercise the real DurableOrchestrationClient."""
    op = req.route_params["op"]
    a = req.get_json() if req.get_body() else {}
    times = {k: _parse_time(a.get(k)) for k in ("from", "to")}
    statuses = [df.OrchestrationRuntimeStatus(s) for s in a.get("statuses", [])] or None
    try:
        if op == "start":
            return _json({"id": await client.start_new(a["name"], a.get("id"), a.get("input"))})
        if op == "status":
            status = await client.get_status(
                a["id"],
                show_history=a.get("history", False),
                show_history_output=a.get("history", False),
                show_input=True,
            )
            data = status.to_json() if status else None
            if data is not None and getattr(status, "historyEvents", None) is not None:
                data["historyEvents"] = status.historyEvents
            return _json(data)
        if op == "list":
            return _json([s.to_json() for s in await client.get_status_all()])
        if op == "list_by":
            found = await client.get_status_by(
                times["from"], times["to"], statuses, a.get("prefix")
            )
            return _json([s.to_json() for s in found])
        if op == "raise":
            await client.raise_event(a["id"], a["event"], a.get("data"))
            return _json({})
        if op in ("terminate", "suspend", "resume"):
            await getattr(client, op)(a["id"], a.get("reason", "because"))
            return _json({})
        if op == "purge":
            return _json(
                {"deleted": (await client.purge_instance_history(a["id"])).instances_deleted}
            )
        if op == "purge_by":
            result = await client.purge_instance_history_by(times["from"], times["to"], statuses)
            return _json({"deleted": result.instances_deleted})
        if op == "restart":
            return _json({"result": await client.restart(a["id"], a.get("new_id", True))})
        if op == "wait":
            return await client.wait_for_completion_or_create_check_status_response(
                req, a["id"], timeout_in_milliseconds=a.get("timeout_ms", 10000)
            )
        if op == "payload":
            return _json(client.create_http_management_payload(a["id"]))
    except Exception as exc:
        return _json({"error": str(exc)}, status=500)
    return _json({"error": f"unknown op {op}"}, status=404)


def _parse_time(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None


# Orchestrators -----------------------------------------------------------------------------------
@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("say_hello", "Tokyo")
    second = yield context.call_activity("say_hello_async", "Seattle")
    third = yield context.call_activity(say_hello, "London")
    return [first, second, third, context.get_input()]


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    """Fan out `n` activities in batches of `batch`; returns the sum of their results."""
    spec = context.get_input()
    total = 0
    for start in range(0, spec["n"], spec["batch"]):
        tasks = [
            context.call_activity(
                spec.get("activity", "noop"),
                {
                    "i": i,
                    "delay": spec.get("delay", 0),
                    "gate": spec.get("gate"),
                    "gate_from": spec.get("gate_from"),
                },
            )
            for i in range(start, min(start + spec["batch"], spec["n"]))
        ]
        results = yield context.task_all(tasks)
        total += sum(results)
        context.set_custom_status({"done": start + len(tasks)})
    return total


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Race an external event against a timer; cancel the losing timer."""
    seconds = context.get_input() or 30
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    answer = context.wait_for_external_event("Approve")
    winner = yield context.task_any([answer, timer])
    if winner == answer:
        timer.cancel()
        return {"approved": answer.result}
    return {"approved": None, "timed_out": True}


@app.orchestration_trigger(context_name="context")
def wait_two_events(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    first = yield context.wait_for_external_event("First")
    context.set_custom_status({"got": first})
    second = yield context.wait_for_external_event("Second")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def early_event(context: df.DurableOrchestrationContext):
    """The event is raised while the orchestrator still waits for an activity."""
    yield context.call_activity("slow", {"i": 1, "delay": context.get_input() or 1.0})
    value = yield context.wait_for_external_event("Early")
    return value


@app.orchestration_trigger(context_name="context")
def with_retries(context: df.DurableOrchestrationContext):
    key = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=100, max_number_of_attempts=3)
    ok = yield context.call_activity_with_retry("flaky", retry, {"key": key + "-a", "fail": 2})
    try:
        yield context.call_activity_with_retry("flaky", retry, {"key": key + "-b", "fail": 5})
        exhausted = None
    except Exception as exc:
        exhausted = str(exc)
    after = yield context.call_activity("say_hello", "after")
    child = yield context.call_sub_orchestrator_with_retry("flaky_child", retry, key + "-c")
    return {"ok": ok, "exhausted": exhausted, "after": after, "child": child}


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    auto = yield context.call_sub_orchestrator("child", 2)
    named = yield context.call_sub_orchestrator("child", 5, f"{context.instance_id}-named")
    both = yield context.task_all(
        [context.call_sub_orchestrator("child", 10), context.call_sub_orchestrator("child", 20)]
    )
    try:
        yield context.call_sub_orchestrator("failing", None)
        failed = None
    except Exception as exc:
        failed = str(exc)
    return {"auto": auto, "named": named, "both": both, "failed": failed, "me": context.instance_id}


@app.orchestration_trigger(context_name="context")
def child(context: df.DurableOrchestrationContext):
    value = yield context.call_activity("double", context.get_input())
    return {"value": value, "parent": context.parent_instance_id, "id": context.instance_id}


@app.orchestration_trigger(context_name="context")
def flaky_child(context: df.DurableOrchestrationContext):
    result = yield context.call_activity("flaky", {"key": context.get_input(), "fail": 1})
    return result


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    yield context.call_activity("say_hello", "x")
    raise ValueError("orchestrator gave up")


@app.orchestration_trigger(context_name="context")
def catches_activity_error(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("raise_error", "bad input")
    except Exception as exc:
        return {"caught": str(exc)}
    return {"caught": None}


@app.orchestration_trigger(context_name="context")
def unknown_activity(context: df.DurableOrchestrationContext):
    yield context.call_activity("does_not_exist", 1)


@app.orchestration_trigger(context_name="context")
def nondeterministic(context: df.DurableOrchestrationContext):
    REPLAYS[context.instance_id] = REPLAYS.get(context.instance_id, 0) + 1
    name = "say_hello" if REPLAYS[context.instance_id] == 1 else "double"
    yield context.call_activity(name, 1)
    yield context.call_activity("say_hello", "two")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def timers_and_ids(context: df.DurableOrchestrationContext):
    start = context.current_utc_datetime
    yield context.create_timer(start + timedelta(seconds=1))
    after = context.current_utc_datetime
    return {
        "start": start.isoformat(),
        "after": after.isoformat(),
        "uuids": [context.new_uuid(), context.new_uuid()],
        "replaying": context.is_replaying,
    }


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    """Eternal: adds each 'Add' event to the total and continues as new until it reaches `limit`."""
    state = context.get_input()
    amount = yield context.wait_for_external_event("Add")
    state["total"] += amount
    state["generations"] += 1
    if state["total"] >= state["limit"]:
        return state
    context.continue_as_new(state)
    return None


@app.orchestration_trigger(context_name="context")
def unserializable_output(context: df.DurableOrchestrationContext):
    yield context.call_activity("say_hello", "x")
    return object()


@app.orchestration_trigger(context_name="context")
def wait_forever(context: df.DurableOrchestrationContext):
    context.set_custom_status("parked")
    value = yield context.wait_for_external_event("Go")
    done = yield context.call_activity("say_hello", value)
    return done


# Activities --------------------------------------------------------------------------------------
@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"{os.environ.get('DEVHOST_TEST_GREETING', '?')} {name}"


@app.activity_trigger(input_name="name")
async def say_hello_async(name: str) -> str:
    await asyncio.sleep(0.01)
    return f"async hello {name}"


@app.activity_trigger(input_name="item")
def noop(item: dict) -> int:
    return 1


@app.activity_trigger(input_name="item")
def slow(item: dict) -> int:
    """Sleeps `delay`; items from `gate_from` on also wait until the `gate` file exists."""
    time.sleep(item["delay"])
    if item.get("gate") and item["i"] >= item["gate_from"]:
        deadline = time.monotonic() + 120
        while not Path(item["gate"]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    _mark(f"slow {item['i']}")
    return item["i"]


@app.activity_trigger(input_name="value")
def double(value: int) -> int:
    return value * 2


@app.activity_trigger(input_name="spec")
def flaky(spec: dict) -> str:
    ATTEMPTS[spec["key"]] = ATTEMPTS.get(spec["key"], 0) + 1
    if ATTEMPTS[spec["key"]] <= spec["fail"]:
        raise RuntimeError(f"attempt {ATTEMPTS[spec['key']]} of {spec['key']} failed")
    return f"{spec['key']} ok after {ATTEMPTS[spec['key']]}"


@app.activity_trigger(input_name="text")
def raise_error(text: str) -> None:
    raise ValueError(f"cannot handle {text}")


# Event Grid and timers -------------------------------------------------------------------------
@app.event_grid_trigger(arg_name="event")
def on_event(event) -> None:
    if isinstance(event, func.CloudEvent):
        RECORDED["eventgrid"].append(
            {
                "schema": "cloudevents",
                "id": event.id,
                "type": event.type,
                "source": event.source,
                "subject": event.subject,
                "data": event.get_json(),
            }
        )
    else:
        RECORDED["eventgrid"].append(
            {
                "schema": "eventgrid",
                "id": event.id,
                "type": event.event_type,
                "topic": event.topic,
                "subject": event.subject,
                "data": event.get_json(),
            }
        )


@app.event_grid_trigger(arg_name="event")
def failing_event(event) -> None:
    raise RuntimeError("handler failed")


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def every_second(timer: func.TimerRequest) -> None:
    RECORDED["timers"].append({"name": "every_second", "past_due": timer.past_due})


@app.timer_trigger(schedule="01:00:00", arg_name="timer", run_on_startup=True)
def hourly_on_startup(timer: func.TimerRequest) -> None:
    RECORDED["timers"].append({"name": "hourly_on_startup", "past_due": timer.past_due})


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer")
def yearly(timer: func.TimerRequest) -> None:
    RECORDED["timers"].append({"name": "yearly", "past_due": timer.past_due})


@app.timer_trigger(schedule="02:00:00", arg_name="timer", run_on_startup=True)
@app.durable_client_input(client_name="client")
async def start_on_startup(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """A timer that starts an orchestration through the durable client binding."""
    status = await client.get_status("started-by-timer")
    if not status or status.runtime_status not in (
        df.OrchestrationRuntimeStatus.Running,
        df.OrchestrationRuntimeStatus.Pending,
    ):
        await client.start_new("hello_sequence", "started-by-timer", "from a timer")


@app.event_grid_trigger(arg_name="event")
@app.durable_client_input(client_name="client")
async def start_from_event(event, client: df.DurableOrchestrationClient) -> None:
    """An Event Grid function that starts one orchestration per event, keyed by the event id."""
    await client.start_new("hello_sequence", f"event-{event.id}", {"subject": event.subject})
