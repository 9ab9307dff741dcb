"""History shaping, action flattening, the non-determinism check and the client binding."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import azure.functions as func
from azure.durable_functions import DurableOrchestrationClient

from devhost.durable import actions as act
from devhost.durable.binding import client_binding
from devhost.durable.history import EventType, event, parse_time, status_history

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_flatten_expands_compound_actions_depth_first() -> None:
    state = {
        "schemaVersion": 2,
        "actions": [
            [
                {
                    "actionType": act.WHEN_ANY,
                    "compoundActions": [
                        {"actionType": act.WAIT_FOR_EXTERNAL_EVENT, "externalEventName": "E"},
                        {"actionType": act.CREATE_TIMER, "fireAt": "x", "isCanceled": True},
                    ],
                },
                {"actionType": act.CALL_ACTIVITY, "functionName": "Done", "input": "42"},
            ]
        ],
    }
    assert [a["actionType"] for a in act.flatten(state)] == [6, 5, 0]


def test_flatten_reads_v1_schema_as_concatenated_groups() -> None:
    state = {"actions": [[{"actionType": 0}], [{"actionType": 5}, {"actionType": 0}]]}
    assert [a["actionType"] for a in act.flatten(state)] == [0, 5, 0]


def test_nondeterminism_names_both_sides() -> None:
    recorded = event(EventType.TaskScheduled, T, 0, Name="A")
    same = {"actionType": act.CALL_ACTIVITY, "functionName": "a"}
    other = {"actionType": act.CALL_ACTIVITY, "functionName": "B"}
    timer = {"actionType": act.CREATE_TIMER, "fireAt": "x"}
    assert act.nondeterminism(same, 0, recorded) is None
    message = act.nondeterminism(other, 0, recorded)
    assert message and "sequence number 0 named 'A'" in message and "named 'B'" in message
    assert "a durable timer" in (act.nondeterminism(timer, 0, recorded) or "")


def test_status_history_matches_the_extension_shape() -> None:
    events = [
        event(EventType.OrchestratorStarted, T),
        event(EventType.ExecutionStarted, T, Name="orch", Version="", Input='{"a": 1}'),
        event(EventType.TaskScheduled, T, 0, Name="act", Input='"in"'),
        event(EventType.OrchestratorCompleted, T),
        event(EventType.OrchestratorStarted, T),
        event(EventType.TaskCompleted, T, TaskScheduledId=0, Result='"out"'),
        event(EventType.ExecutionCompleted, T, OrchestrationStatus="Completed", Result='"done"'),
    ]
    shown = status_history(events, with_output=True)
    assert [e["EventType"] for e in shown] == [
        "ExecutionStarted",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    assert shown[0]["FunctionName"] == "orch" and shown[0]["Input"] == {"a": 1}
    assert shown[1]["FunctionName"] == "act" and shown[1]["Input"] == "in"
    assert shown[1]["Result"] == "out" and "TaskScheduledId" not in shown[1]
    assert all("EventId" not in e and "IsPlayed" not in e for e in shown)
    hidden = status_history(events, with_output=False)
    assert "Result" not in hidden[1]


def test_parse_time_accepts_seven_digit_fractions_and_offsets() -> None:
    assert parse_time("2024-01-01T00:00:00.1234567Z") == datetime(2024, 1, 1, 0, 0, 0, 123456, UTC)
    assert parse_time("2024-01-01T01:00:00+01:00") == T


def test_client_binding_is_accepted_by_the_sdk_client() -> None:
    """The real client reads the binding; check-status links carry the id and request origin."""
    binding = client_binding(
        "http://127.0.0.1:7071", "http://127.0.0.1:7071/durabletask/", "Hub", "k/ey"
    )
    client = DurableOrchestrationClient(binding)
    req = func.HttpRequest("POST", "http://localhost:9999/api/start", body=b"")
    response = client.create_check_status_response(req, "abc")
    body = json.loads(response.get_body())
    assert response.status_code == 202
    assert body["id"] == "abc"
    assert body["statusQueryGetUri"] == (
        "http://localhost:9999/runtime/webhooks/durabletask/instances/abc"
        "?taskHub=Hub&connection=Storage&code=k%2Fey"
    )
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert json.loads(binding)["rpcBaseUrl"].endswith("/")
