"""The public HTTP surface end to end: Git webhooks, Flux events and the operator API, served by
devhost from the real function app, with the emulator as Azure."""

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rollout_support import (
    GOOD,
    GOOD2,
    Stack,
    api,
    github_push,
    running_stack,
    signed_github,
    slow_canaries,
    track_spec,
)

from shared.states import RolloutState
from shared.store.sqlite import SqliteStore

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


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
    code, body = api(stack, "POST", f"rollouts/{rollout_id}/approve")
    assert code == 403 and "ARCWAVE_KEYS_MAY_APPROVE" in body["error"]  # a key is no person
    stack.command(rollout_id, approvals={"rest": "ada@contoso.com"})  # tests/e2e/test_roles.py
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


# -- hostile input ------------------------------------------------------------------------

ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    + ["name: baseline"]
).encode()
"""447 bytes that a YAML reader following aliases expands into 10 million strings."""


def send(
    stack: Stack, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes, float]:
    """One raw request: status, headers, body and how long it took, measured outside."""
    started = time.perf_counter()
    code, answer_headers, payload = stack.host.raw(method, path, data=body, headers=headers)
    return code, answer_headers, payload, time.perf_counter() - started


def keyed(content_type: str = "application/json") -> dict[str, str]:
    return {"Content-Type": content_type}


def over_the_store_limit() -> bytes:
    """A spec under the 256 KiB body cap that, with every default filled in, is a document
    over the store's 2 MB limit: thousands of kustomizations written as `"kN": {}`."""
    spec = track_spec()
    spec["configuration"]["kustomizations"] = {f"k{i}": {} for i in range(19_000)}
    return json.dumps(spec, separators=(",", ":")).encode()


def test_hostile_bodies_get_small_4xx_answers_and_no_traceback(stack: Stack) -> None:
    register(stack)
    key = f"?code={stack.host.function_key}"
    track = f"/api/tracks/baseline{key}"

    code, _, payload, took = send(stack, "PUT", track, ALIAS_BOMB, keyed("application/yaml"))
    print(f"alias bomb: {code} in {took * 1000:.1f} ms, {len(payload)} bytes")
    assert code == 400 and len(payload) < 16 * 1024
    assert json.loads(payload)["errors"][0]["type"] == "yaml_alias"

    for deep in (b"[" * 10_000 + b"]" * 10_000, b"waves:\n" + b"- " * 200 + b"x\n"):
        code, _, payload, _ = send(stack, "PUT", track, deep, keyed("application/yaml"))
        assert code == 400, payload
        assert json.loads(payload)["errors"][0]["type"] == "too_deep"
    deep_json = b"[" * 3000 + b"]" * 3000  # within the 8 KiB cap, past Python's recursion
    code, _, payload, _ = send(stack, "POST", f"/api/tracks/baseline/rollouts{key}", deep_json)
    assert code == 400 and json.loads(payload)["errors"][0]["type"] == "too_deep"

    code, _, payload, _ = send(stack, "PUT", track, b" " * (256 * 1024 + 1), keyed())
    assert code == 413 and json.loads(payload)["limit"] == 256 * 1024
    assert "256 KiB" in json.loads(payload)["error"]
    reason = json.dumps({"revision": GOOD, "reason": "x" * 9000}).encode()
    code, _, payload, _ = send(stack, "POST", f"/api/tracks/baseline/rollouts{key}", reason)
    assert code == 413 and json.loads(payload)["limit"] == 8 * 1024
    for path, limit in (("/api/hooks/bitbucket", 256 * 1024), ("/api/flux/events", 256 * 1024)):
        code, _, payload, _ = send(stack, "POST", path, b"{" + b" " * limit + b"}", keyed())
        assert code == 413 and json.loads(payload)["limit"] == limit, path
    big = b" " * (25 * 1024 * 1024 + 1)
    code, _, payload, _ = send(stack, "POST", "/api/hooks/github", big, keyed())
    assert code == 413 and "25 MiB" in json.loads(payload)["error"]

    spec = over_the_store_limit()
    assert len(spec) < 256 * 1024
    code, _, payload, _ = send(stack, "PUT", track, spec, keyed())
    assert code == 413, payload
    assert "too large to store" in json.loads(payload)["error"]
    stored = api(stack, "GET", "tracks/baseline")[1]["spec"]["configuration"]
    assert list(stored["kustomizations"]) == ["infra"]  # nothing was written

    output = stack.host.output()
    assert "Traceback" not in output and "RecursionError" not in output
    assert "internal error" not in output and "outcome=Failed" not in output  # no 500


def test_a_locked_store_answers_503_with_retry_after_within_seconds(stack: Stack) -> None:
    register(stack)
    store = stack.records.store
    assert isinstance(store, SqliteStore)
    holder = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        body = json.dumps(track_spec()).encode()
        path = f"/api/tracks/baseline?code={stack.host.function_key}"
        code, headers, payload, took = send(stack, "PUT", path, body, keyed())
        print(f"locked store: PUT answered {code} in {took:.2f} s")
        assert code == 503, payload
        assert int(headers["Retry-After"]) >= 1
        assert took < 10.0  # generous: the request's store budget is 1.5 s, not 30 s
        push = json.dumps(github_push(GOOD)).encode()
        code, headers, _, took = send(
            stack, "POST", "/api/hooks/github", push, signed_github(push, "locked-1")
        )
        print(f"locked store: webhook answered {code} in {took:.2f} s")
        assert code == 503 and "Retry-After" in headers
        assert took < 10.0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert api(stack, "PUT", "tracks/baseline", track_spec())[0] == 200
    assert "Traceback" not in stack.host.output()
