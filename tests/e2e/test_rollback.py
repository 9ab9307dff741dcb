"""Rolling back a finished rollout (`POST /api/rollouts/{id}/rollback`), from the outside: a
new rollout of the revision that was good before it, through the track's waves and gates or,
fast, in one wave with the gates off; refused while a rollout runs or when nothing precedes it.
"""

from pathlib import Path

import pytest
from rollout_support import BAD, GOOD, GOOD2, Stack, api, running_stack, slow_canaries, track_spec

from shared.states import RolloutState

pytestmark = pytest.mark.e2e


def start(stack: Stack, revision: str) -> str:
    code, handed = api(stack, "POST", "tracks/baseline/rollouts", {"revision": revision})
    assert code == 202, handed
    return str(handed["rolloutId"])


def finished(stack: Stack, rollout_id: str, state: RolloutState = RolloutState.SUCCEEDED) -> None:
    stack.wait_state(rollout_id, state, timeout=180)


def test_rollback_starts_a_rollout_of_the_revision_good_before(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register()
        first = start(stack, GOOD)
        finished(stack, first)
        code, body = api(stack, "POST", f"rollouts/{first}/rollback")
        assert code == 409 and "no revision of track 'baseline' was good before" in body["error"]

        second = start(stack, GOOD2)
        finished(stack, second)
        code, handed = api(stack, "POST", f"rollouts/{second}/rollback")
        assert code == 202, handed
        assert (handed["revision"], handed["undoes"], handed["fast"]) == (GOOD, second, False)
        undo = handed["rolloutId"]
        finished(stack, undo)
        code, detail = api(stack, "GET", f"rollouts/{undo}")
        assert detail["trigger"]["kind"] == "rollback"
        assert detail["trigger"]["undoes"] == second
        assert [w["name"] for w in detail["waves"]] == ["canary", "early", "broad"]
        code, fleet = api(stack, "GET", "fleet?track=baseline")
        assert {c["lastGoodRevision"] for c in fleet["clusters"]} == {GOOD}
        writes = [w for w in stack.writes() if w["commit"] == GOOD]
        assert writes, "the rollback wrote the old revision"


def test_a_fast_rollback_is_one_wave_with_the_gates_off(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "rest"},
            ]
        )
        first = start(stack, GOOD)
        finished(stack, first)
        gated = [
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "rest", "approval": True},
        ]
        code, body = api(stack, "PUT", "tracks/baseline", track_spec(waves=gated))
        assert code == 200, body
        second = start(stack, GOOD2)
        stack.wait_state(second, RolloutState.WAITING_FOR_APPROVAL)
        code, body = api(stack, "POST", f"rollouts/{second}/rollback", {"fast": True})
        assert code == 409 and "abort it with rollback" in body["error"]
        code, body = api(stack, "POST", f"rollouts/{second}/abort")
        assert code == 202, body
        finished(stack, second, RolloutState.ABORTED)

        code, handed = api(stack, "POST", f"rollouts/{second}/rollback", {"fast": True})
        assert code == 202 and handed["fast"] is True, handed
        undo = handed["rolloutId"]
        finished(stack, undo)  # no approval asked: the gates are off
        code, detail = api(stack, "GET", f"rollouts/{undo}")
        assert detail["trigger"] == {
            "kind": "rollback:fast",
            "actor": "function-key",
            "undoes": second,
            "deliveryId": None,
        }
        assert [w["name"] for w in detail["waves"]] == ["fast"]


def test_rollback_refuses_what_it_cannot_undo(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries()) as stack:
        stack.register()
        first = start(stack, GOOD)
        finished(stack, first)
        bad = start(stack, BAD)
        code, body = api(stack, "POST", f"rollouts/{bad}/rollback")
        assert code == 409 and body["state"] in ("Pending", "Running"), body
        finished(stack, bad, RolloutState.ROLLED_BACK)
        code, body = api(stack, "POST", f"rollouts/{bad}/rollback")
        assert code == 409 and "rolled back already" in body["error"]
        code, body = api(stack, "POST", f"rollouts/{first}/rollback", {"fast": "yes"})
        assert code == 400 and body["errors"][0]["loc"] == "fast"
        assert api(stack, "POST", "rollouts/nope/rollback")[0] == 404
