"""The public HTTP surface end to end: Git webhooks, Flux events and the operator API, served by
devhost from the real function app, with the emulator as Azure."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rollout_support import (
    GOOD,
    GOOD2,
    Stack,
    github_push,
    running_stack,
    signed_github,
    slow_canaries,
    track_spec,
)

from shared.states import RolloutState

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


def api(stack: Stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return stack.host.request(
        method, f"/api/{path}", body, headers={"x-functions-key": stack.host.function_key}
    )


def push(stack: Stack, payload: dict[str, Any], delivery: str, **kwargs: Any) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    return stack.host.request(
        "POST", "/api/hooks/github", raw=body, headers=signed_github(body, delivery, **kwargs)
    )


def register(stack: Stack, **spec: Any) -> None:
    code, body = api(stack, "PUT", "tracks/baseline", track_spec(**spec))
    assert code == 201, body


def test_tracks_are_registered_validated_and_listed(stack: Stack) -> None:
    register(stack)
    code, body = api(stack, "GET", "tracks/baseline")
    assert code == 200 and body["spec"]["waves"][0]["name"] == "canary"
    assert api(stack, "PUT", "tracks/baseline", track_spec())[0] == 200
    code, body = api(stack, "PUT", "tracks/baseline", track_spec(progressDeadline="soon"))
    assert code == 400
    assert body["errors"][0]["loc"] == "progressDeadline"
    code, body = api(stack, "PUT", "tracks/other", track_spec())
    assert code == 400 and body["errors"][0]["loc"] == "name"
    code, body = api(stack, "GET", "tracks")
    assert [t["name"] for t in body["tracks"]] == ["baseline"]
    assert api(stack, "GET", "tracks/missing")[0] == 404


def test_api_routes_need_the_function_key(stack: Stack) -> None:
    assert stack.host.request("GET", "/api/tracks")[0] == 401
    assert stack.host.request("GET", "/api/healthz")[0] == 200


def test_a_signed_push_rolls_out_and_a_redelivery_does_not(stack: Stack) -> None:
    register(stack)
    code, body = push(stack, github_push(GOOD, previous="0" * 40), "delivery-1")
    assert code == 202, body
    [item] = body["tracks"]
    assert (item["track"], item["revision"], item["queued"]) == ("baseline", GOOD, False)
    rollout = stack.wait_state(item["rolloutId"], RolloutState.SUCCEEDED, RolloutState.FAILED)
    assert rollout.state is RolloutState.SUCCEEDED
    writes = len(stack.writes())
    code, body = push(stack, github_push(GOOD, previous="0" * 40), "delivery-1")
    assert (code, body) == (200, {"duplicate": True})
    assert len(stack.writes()) == writes
    code, detail = api(stack, "GET", f"rollouts/{item['rolloutId']}")
    assert code == 200
    assert detail["state"] == "Succeeded" and detail["trigger"]["kind"] == "git:github"
    assert [w["name"] for w in detail["waves"]] == ["canary", "early", "broad"]
    assert {c["state"] for w in detail["waves"] for c in w["clusters"]} == {"Healthy"}
    code, timeline = api(stack, "GET", f"rollouts/{item['rolloutId']}/timeline")
    assert timeline["timeline"][0]["reason"] == "RolloutStarted"
    code, fleet = api(stack, "GET", "fleet?track=baseline")
    assert {c["lastGoodRevision"] for c in fleet["clusters"]} == {GOOD}


def test_refused_and_ignored_deliveries(stack: Stack) -> None:
    register(stack)
    payload = github_push(GOOD)
    assert push(stack, payload, "d-bad", secret="wrong")[0:2] == (401, {"error": "unauthorized"})
    assert push(stack, {"zen": "hi", "hook_id": 1}, "d-ping", event="ping")[0] == 200
    code, body = push(stack, github_push(GOOD, branch="dev"), "d-dev")
    assert code == 200 and "not followed" in body["ignored"]
    tag = {**payload, "ref": "refs/tags/v1"}
    code, body = push(stack, tag, "d-tag")
    assert code == 200 and body["ignored"]
    code, body = stack.host.request(
        "POST", "/api/hooks/github", raw=b"{not json", headers=signed_github(b"{not json", "d-x")
    )
    assert code == 400
    assert stack.host.request("POST", "/api/hooks/svn", raw=b"{}")[0] == 404
    assert stack.writes() == []


def test_operator_rollouts_commands_and_conflicts(stack: Stack) -> None:
    register(
        stack,
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "rest", "approval": True},
        ],
    )
    code, item = api(
        stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD, "reason": "first"}
    )
    assert code == 202, item
    rollout_id = item["rolloutId"]
    stack.wait_state(rollout_id, RolloutState.WAITING_FOR_APPROVAL)
    code, body = api(stack, "POST", f"rollouts/{rollout_id}/resume")
    assert code == 409 and body["state"] == "WaitingForApproval"
    code, body = api(stack, "DELETE", "tracks/baseline")
    assert code == 409 and body["activeRolloutId"] == rollout_id
    assert api(stack, "POST", f"rollouts/{rollout_id}/approve")[0] == 202
    stack.wait_state(rollout_id, RolloutState.SUCCEEDED)
    code, body = api(stack, "POST", f"rollouts/{rollout_id}/abort", {"rollback": True})
    assert code == 409 and "Succeeded" in body["error"]
    code, listing = api(stack, "GET", "rollouts?track=baseline")
    assert [r["id"] for r in listing["rollouts"]] == [rollout_id]
    code, body = api(stack, "GET", "rollouts?state=Sideways")
    assert code == 400 and body["errors"][0]["loc"] == "state"
    code, body = api(stack, "POST", "tracks/baseline/rollouts", {"revision": "abc"})
    assert code == 400 and body["errors"][0]["loc"] == "revision"
    assert api(stack, "POST", f"rollouts/{rollout_id}/explode")[0] == 404
    assert api(stack, "DELETE", "tracks/baseline")[0] == 200


def test_plan_preview_writes_nothing(stack: Stack) -> None:
    register(stack)
    code, plan = api(stack, "POST", "tracks/baseline/plan", {"revision": GOOD2})
    assert code == 200, plan
    assert [len(w["clusters"]) for w in plan["waves"]] == [2, 4, 6]
    assert plan["revision"] == GOOD2
    assert stack.writes() == []


def test_a_queued_rollout_can_be_paused_and_resumed(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries()) as stack:
        register(stack)
        first = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD})[1]
        stack.wait_state(first["rolloutId"], RolloutState.RUNNING)
        code, queued = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD2})
        assert code == 202 and queued["queued"] is True
        assert api(stack, "POST", f"rollouts/{queued['rolloutId']}/pause")[0] == 202
        code, body = api(stack, "POST", f"rollouts/{queued['rolloutId']}/resume")
        assert code == 202, body
