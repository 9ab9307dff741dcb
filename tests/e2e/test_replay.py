"""Pushes in order, exactly once, against a running stack as an attacker or a bad day would
send them: a captured signed body replayed under a new or no delivery header, an older push
delivered after a newer one, two pushes racing. Measured from the outside: the answers, the
rollouts the API lists and the emulator's write log."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rollout_support import (
    GOOD,
    GOOD2,
    WEBHOOK_SECRET,
    Stack,
    api,
    github_push,
    running_stack,
    signed_github,
    track_spec,
)

from shared.states import RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e

T0 = 1_796_083_200  # 2026-12-01T00:00:00Z
FIRST = github_push(GOOD, previous="0" * 40, pushed_at=T0)
SECOND = github_push(GOOD2, previous=GOOD, pushed_at=T0 + 60)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        code, body = api(running, "PUT", "tracks/baseline", track_spec())
        assert code == 201, body
        yield running


def deliver(stack: Stack, payload: dict[str, Any], delivery: str | None) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    if delivery is not None:
        headers = signed_github(body, delivery)
    else:
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": f"sha256={digest}",
        }
    return stack.host.request("POST", "/api/hooks/github", raw=body, headers=headers)


def rollouts(stack: Stack) -> list[dict[str, Any]]:
    return list(api(stack, "GET", "rollouts?track=baseline")[1]["rollouts"])


def ended(stack: Stack, rollout_id: str) -> None:
    stack.wait_state(rollout_id, RolloutState.SUCCEEDED, RolloutState.FAILED)


@pytest.mark.parametrize("header", ["d-new", None])
def test_a_replayed_body_starts_nothing_whatever_its_delivery_header(
    stack: Stack, header: str | None
) -> None:
    code, body = deliver(stack, SECOND, "d-1")
    assert code == 202, body
    ended(stack, body["tracks"][0]["rolloutId"])
    writes = len(stack.writes())
    assert deliver(stack, SECOND, header) == (200, {"duplicate": True})
    assert len(rollouts(stack)) == 1
    assert len(stack.writes()) == writes


def test_an_older_push_after_a_newer_one_is_stale(stack: Stack) -> None:
    code, body = deliver(stack, SECOND, "d-2")
    assert code == 202, body
    ended(stack, body["tracks"][0]["rolloutId"])
    writes = len(stack.writes())
    code, body = deliver(stack, FIRST, "d-1")  # the earlier push, delivered late
    assert code == 200, body
    assert body["reason"] == "Stale" and body["tracks"] == []
    assert "2b7e0c1 is older: 3c8f1d2 moved on from it" in body["ignored"]
    assert [r["revision"] for r in rollouts(stack)] == [GOOD2]
    assert len(stack.writes()) == writes
    # An operator can still roll the older revision out, on purpose and recorded as such.
    code, body = api(stack, "POST", "tracks/baseline/rollouts", {"revision": GOOD})
    assert code == 202, body
    ended(stack, body["rolloutId"])
    detail = api(stack, "GET", f"rollouts/{body['rolloutId']}")[1]
    assert (detail["state"], detail["trigger"]["kind"]) == ("Succeeded", "api")


def test_two_racing_pushes_end_on_the_newer_commit(stack: Stack) -> None:
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda p: deliver(stack, *p), [(SECOND, "d-2"), (FIRST, "d-1")]))
    assert {code for code, _ in answers} <= {200, 202}
    started = [item["rolloutId"] for _, body in answers for item in body.get("tracks", [])]
    assert started, answers
    for rollout_id in started:
        ended(stack, rollout_id)

    def settled() -> bool:
        track = api(stack, "GET", "tracks/baseline")[1]
        return track["lastGoodRevision"] == GOOD2 and track["activeRolloutId"] is None

    eventually(settled, timeout=120, what="the track settled on the newer commit")
    last: dict[str, str] = {}
    for write in stack.writes():
        last[write["cluster"]] = write["commit"]
    assert set(last.values()) == {GOOD2}
