"""Durable Functions through the real DurableOrchestrationClient (via the app's client routes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from devhost.testing import DevHost, poll

pytestmark = pytest.mark.integration

Client = Callable[..., Any]
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def start(client: Client, name: str, input_: Any = None, instance_id: str | None = None) -> str:
    return client("start", name=name, input=input_, id=instance_id or unique(name))["id"]


def finish(host: DevHost, instance_id: str, timeout: float = 60.0) -> dict[str, Any]:
    return host.wait_for(instance_id, timeout=timeout)


def wait_status(host: DevHost, instance_id: str, status: str) -> dict[str, Any]:
    return host.wait_for(instance_id, (status,), timeout=30)


def test_check_status_response_and_chaining(host: DevHost) -> None:
    """start_new + create_check_status_response; sync, async and callable-named activities."""
    status, body = host.request("POST", "/api/orchestrators/hello_sequence", {"city": "Oslo"})
    assert status == 202
    assert body["statusQueryGetUri"].startswith(host.base_url + "/runtime/webhooks/durabletask/")
    assert set(body) >= {
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "purgeHistoryDeleteUri",
        "suspendPostUri",
        "resumePostUri",
        "restartPostUri",
    }
    poll(lambda: host.request("GET", body["statusQueryGetUri"][len(host.base_url) :])[0] == 200)
    _, done = host.request("GET", body["statusQueryGetUri"][len(host.base_url) :])
    assert done["runtimeStatus"] == "Completed"
    assert done["output"] == [
        "hello Tokyo",
        "async hello Seattle",
        "hello London",
        {"city": "Oslo"},
    ]
    assert done["input"] == {"city": "Oslo"}


def test_wait_for_completion_returns_output(host: DevHost) -> None:
    """wait_for_completion_or_create_check_status_response answers 200 with the output."""
    instance_id = start(host_client(host), "fan_out", {"n": 5, "batch": 5})
    status, body = host.request("POST", "/api/client/wait", {"id": instance_id})
    assert (status, body) == (200, 5)


def host_client(host: DevHost) -> Client:
    def call(op: str, **args: Any) -> Any:
        return host.request("POST", f"/api/client/{op}", args)[1]

    return call


def test_fan_out_fan_in_with_custom_status(host: DevHost, client: Client) -> None:
    """task_all over batches of activities; custom status survives replays."""
    instance_id = start(client, "fan_out", {"n": 45, "batch": 20})
    done = finish(host, instance_id)
    assert done["runtimeStatus"] == "Completed"
    assert done["output"] == 45
    assert done["customStatus"] == {"done": 45}


def test_task_any_event_beats_timer(host: DevHost, client: Client) -> None:
    """An external event wins a task_any race against a durable timer, which is cancelled."""
    instance_id = start(client, "approval", 60)
    wait_status(host, instance_id, "Running")
    client("raise", id=instance_id, event="Approve", data={"by": "ops"})
    done = finish(host, instance_id)
    assert done["output"] == {"approved": {"by": "ops"}}


def test_task_any_timer_fires(host: DevHost, client: Client) -> None:
    """Without the event, the timer wins after its fire time."""
    instance_id = start(client, "approval", 1)
    done = finish(host, instance_id)
    assert done["output"] == {"approved": None, "timed_out": True}


def test_events_raised_before_wait_are_buffered(host: DevHost, client: Client) -> None:
    """'Second' is raised before the orchestrator waits for it and still arrives."""
    instance_id = start(client, "wait_two_events")
    running = poll(lambda: (s := client("status", id=instance_id)) and s.get("customStatus") and s)
    assert running["customStatus"] == "waiting"
    client("raise", id=instance_id, event="Second", data=2)
    client("raise", id=instance_id, event="First", data=1)
    done = finish(host, instance_id)
    assert done["output"] == [1, 2]
    assert done["customStatus"] == {"got": 1}


def test_event_raised_while_activity_runs(host: DevHost, client: Client) -> None:
    instance_id = start(client, "early_event", 0.5)
    wait_status(host, instance_id, "Running")
    client("raise", id=instance_id, event="Early", data="early bird")
    assert finish(host, instance_id)["output"] == "early bird"


def test_retries_for_activities_and_sub_orchestrations(host: DevHost, client: Client) -> None:
    """call_activity_with_retry / call_sub_orchestrator_with_retry; exhausted retries raise."""
    key = unique("retry")
    instance_id = start(client, "with_retries", key)
    done = finish(host, instance_id)
    assert done["runtimeStatus"] == "Completed", done
    out = done["output"]
    assert out["ok"] == f"{key}-a ok after 3"
    assert "Activity function 'flaky' failed" in out["exhausted"]
    assert f"attempt 3 of {key}-b failed" in out["exhausted"]
    assert out["after"] == "hello after"
    assert out["child"] == f"{key}-c ok after 2"


def test_sub_orchestrations(host: DevHost, client: Client) -> None:
    """Children with generated and explicit ids, in parallel, and a failing child caught."""
    instance_id = unique("parent")
    start(client, "parent", instance_id=instance_id)
    done = finish(host, instance_id)
    assert done["runtimeStatus"] == "Completed", done
    out = done["output"]
    assert out["auto"]["value"] == 4
    assert out["auto"]["parent"] == instance_id
    execution, sequence = out["auto"]["id"].rsplit(":", 1)
    assert execution and sequence == "0"
    assert out["named"] == {"value": 10, "parent": instance_id, "id": f"{instance_id}-named"}
    assert [b["value"] for b in out["both"]] == [20, 40]
    assert "Orchestrator function 'failing' failed: orchestrator gave up" in out["failed"]
    child = client("status", id=f"{instance_id}-named")
    assert child["runtimeStatus"] == "Completed"


def test_orchestrator_exception_fails_instance(host: DevHost, client: Client) -> None:
    instance_id = start(client, "failing")
    done = finish(host, instance_id)
    assert done["runtimeStatus"] == "Failed"
    assert done["output"] == "Orchestrator function 'failing' failed: orchestrator gave up"
    status, body = host.request("POST", "/api/client/wait", {"id": instance_id})
    assert status == 500
    assert body["runtimeStatus"] == "Failed"


def test_unserializable_output_fails_instance(host: DevHost, client: Client) -> None:
    """A return value the SDK cannot serialise is a failure, not a completion."""
    done = finish(host, start(client, "unserializable_output"))
    assert done["runtimeStatus"] == "Failed"
    assert done["output"].startswith("Orchestrator function 'unserializable_output' failed: ")


def test_activity_exception_is_caught_at_yield(host: DevHost, client: Client) -> None:
    done = finish(host, start(client, "catches_activity_error"))
    caught = done["output"]["caught"]
    assert "Activity function 'raise_error' failed: ValueError: cannot handle bad input" in caught


def test_unknown_activity_fails_instance(host: DevHost, client: Client) -> None:
    done = finish(host, start(client, "unknown_activity"))
    assert done["runtimeStatus"] == "Failed"
    assert "'does_not_exist' doesn't exist" in done["output"]


def test_history_mismatch_fails_with_a_message_naming_it(host: DevHost, client: Client) -> None:
    """A replay that schedules a different activity than history recorded fails the instance."""
    done = finish(host, start(client, "nondeterministic"))
    assert done["runtimeStatus"] == "Failed"
    assert "Non-Deterministic workflow detected" in done["output"]
    assert "named 'say_hello'" in done["output"] and "named 'double'" in done["output"]


def test_durable_timer_time_and_new_uuid(host: DevHost, client: Client) -> None:
    """current_utc_datetime advances past the timer; new_uuid is the SDK's deterministic UUIDv5."""
    instance_id = start(client, "timers_and_ids")
    out = finish(host, instance_id)["output"]
    before, after = datetime.fromisoformat(out["start"]), datetime.fromisoformat(out["after"])
    assert (after - before).total_seconds() >= 1
    stamp = after.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expected = [str(uuid.uuid5(UUID_NAMESPACE, f"{instance_id}_{stamp}_{n}")) for n in (0, 1)]
    assert out["uuids"] == expected
    assert out["replaying"] is False


def test_continue_as_new_carries_events_over(host: DevHost, client: Client) -> None:
    """Each generation consumes one event; events raised together reach later generations."""
    instance_id = start(client, "counter", {"total": 0, "generations": 0, "limit": 6})
    wait_status(host, instance_id, "Running")
    for amount in (1, 2, 3):
        client("raise", id=instance_id, event="Add", data=amount)
    done = finish(host, instance_id)
    assert done["output"] == {"total": 6, "generations": 3, "limit": 6}
    history = client("status", id=instance_id, history=True)["historyEvents"]
    started = [e for e in history if e["EventType"] == "ExecutionStarted"]
    assert len(started) == 1
    assert started[0]["Input"]["generations"] == 2


def test_terminate(host: DevHost, client: Client) -> None:
    instance_id = start(client, "wait_forever")
    wait_status(host, instance_id, "Running")
    client("terminate", id=instance_id, reason="no longer needed")
    done = wait_status(host, instance_id, "Terminated")
    assert done["output"] == "no longer needed"
    status, body = host.request(
        "POST", "/api/client/raise", {"id": instance_id, "event": "Go", "data": 1}
    )
    assert status == 500 and body["error"]


def test_suspend_holds_events_until_resume(host: DevHost, client: Client) -> None:
    instance_id = start(client, "wait_forever")
    wait_status(host, instance_id, "Running")
    client("suspend", id=instance_id, reason="maintenance")
    wait_status(host, instance_id, "Suspended")
    client("raise", id=instance_id, event="Go", data="later")
    assert client("status", id=instance_id)["runtimeStatus"] == "Suspended"
    client("resume", id=instance_id, reason="done")
    done = finish(host, instance_id)
    assert done["output"] == "hello later"
    kinds = [
        e["EventType"] for e in client("status", id=instance_id, history=True)["historyEvents"]
    ]
    assert kinds.index("ExecutionSuspended") < kinds.index("ExecutionResumed")
    assert kinds.index("ExecutionResumed") < kinds.index("EventRaised")


def test_get_status_with_history_shape(host: DevHost, client: Client) -> None:
    """showHistory: string EventTypes, no EventId or scheduling events; FunctionName on results."""
    instance_id = start(client, "hello_sequence", "in")
    finish(host, instance_id)
    status = client("status", id=instance_id, history=True)
    events = status["historyEvents"]
    kinds = [e["EventType"] for e in events]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionCompleted"
    assert kinds.count("TaskCompleted") == 3
    assert "TaskScheduled" not in kinds and "OrchestratorStarted" not in kinds
    assert all("EventId" not in e for e in events)
    completed = [e for e in events if e["EventType"] == "TaskCompleted"]
    assert [c["FunctionName"] for c in completed] == ["say_hello", "say_hello_async", "say_hello"]
    assert completed[0]["Result"] == "hello Tokyo"


def test_start_new_with_running_id_fails_and_finished_id_restarts(
    host: DevHost, client: Client
) -> None:
    """An id whose instance is still running cannot be started again; a finished one can."""
    instance_id = unique("dup")
    start(client, "wait_forever", instance_id=instance_id)
    wait_status(host, instance_id, "Running")
    status, body = host.request(
        "POST", "/api/client/start", {"name": "wait_forever", "id": instance_id}
    )
    assert status == 500
    assert "already exists" in body["error"]
    client("raise", id=instance_id, event="Go", data="x")
    assert finish(host, instance_id)["output"] == "hello x"
    start(client, "hello_sequence", "again", instance_id=instance_id)
    done = finish(host, instance_id)
    assert done["name"] == "hello_sequence"
    assert done["output"][-1] == "again"


def test_listing_with_filters(host: DevHost, client: Client) -> None:
    prefix = unique("list")
    ids = [start(client, "hello_sequence", i, instance_id=f"{prefix}-{i}") for i in range(3)]
    for instance_id in ids:
        finish(host, instance_id)
    everything = {s["instanceId"] for s in client("list")}
    assert set(ids) <= everything
    found = client("list_by", prefix=prefix, statuses=["Completed"])
    assert sorted(s["instanceId"] for s in found) == sorted(ids)
    assert client("list_by", prefix=prefix, statuses=["Running"]) == []
    later = client("list_by", prefix=prefix, **{"from": "2999-01-01T00:00:00+00:00"})
    assert later == []


def test_purge_one_and_by_filter(host: DevHost, client: Client) -> None:
    one = start(client, "hello_sequence", 1)
    finish(host, one)
    assert client("purge", id=one) == {"deleted": 1}
    assert host.status(one) is None
    assert client("status", id=one) is None
    assert client("purge", id=one) == {"deleted": 0}
    two = start(client, "failing")
    finish(host, two)
    deleted = client("purge_by", statuses=["Failed"], **{"from": "2000-01-01T00:00:00+00:00"})
    assert deleted["deleted"] >= 1
    assert host.status(two) is None


def test_restart_with_new_instance_id(host: DevHost, client: Client) -> None:
    first = start(client, "hello_sequence", "r")
    finish(host, first)
    result = client("restart", id=first, new_id=True)["result"]
    new_id = result["id"] if isinstance(result, dict) else result
    assert new_id != first
    assert finish(host, new_id)["output"][-1] == "r"
