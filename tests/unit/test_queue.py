"""A track's queue, without an orchestrator: what arrives, what it replaces, what it stops."""

from typing import Any

from shared.contracts.orchestrations import RevisionRequest
from shared.queue import SEEN_KEPT, TrackQueue, request_key

TIMING: Any = {"pollSeconds": 1.0, "retry": {}}


def request(rid: str, supersede: str = "queue", **extra: Any) -> RevisionRequest:
    base: dict[str, Any] = {
        "rolloutId": rid,
        "revision": rid * 8,
        "trigger": {"kind": "test", "actor": "pytest"},
        "supersede": supersede,
        "timing": TIMING,
        "clusters": None,
    }
    return RevisionRequest(**{**base, **extra})  # type: ignore[typeddict-item]


def ids(queue: TrackQueue) -> list[str]:
    return [q["rolloutId"] for q in queue.queue]


def test_a_newer_revision_replaces_every_queued_one() -> None:
    pending = TrackQueue(queue=[], seen=[])
    received = pending.receive([request("a"), request("b"), request("c")], running=None)
    assert ids(pending) == ["c"]
    assert [(o["rolloutId"], n["rolloutId"]) for o, n in received.replaced] == [
        ("a", "b"),
        ("b", "c"),
    ]
    assert received.stop_running is None


def test_re_sent_and_replaced_requests_never_come_back() -> None:
    pending = TrackQueue(queue=[], seen=[])
    pending.receive([request("a"), request("b")], running=None)
    pending.receive([request("a"), request("b")], running=None)  # a replaced, b queued
    assert ids(pending) == ["b"]
    running = pending.next()
    pending.receive([request("b"), request("a")], running=running)
    assert ids(pending) == []


def test_catch_ups_and_recoveries_keep_their_order_and_replace_nothing() -> None:
    pending = TrackQueue(queue=[], seen=[])
    catch_up = request("c1", clusters=["/x"])
    recovery = request("r0", recover="found Failed")
    received = pending.receive([request("a"), catch_up, recovery, request("b")], running=None)
    assert ids(pending) == ["c1", "r0", "b"]
    assert [o["rolloutId"] for o, _ in received.replaced] == ["a"]
    again = request("r0", recover="found Failed later")
    pending.receive([again], running=None)
    assert request_key(again) != request_key(recovery)
    assert ids(pending) == ["c1", "r0", "b", "r0"]


def test_restart_stops_a_running_revision_but_never_a_catch_up() -> None:
    pending = TrackQueue(queue=[], seen=[])
    stopped = pending.receive([request("b", "restart")], running=request("a"))
    assert stopped.stop_running is not None and stopped.stop_running["rolloutId"] == "b"
    kept = pending.receive([request("c", "restart")], running=request("c0", clusters=["/x"]))
    assert kept.stop_running is None


def test_a_track_remembers_the_latest_taken_requests() -> None:
    pending = TrackQueue(queue=[], seen=[f"old-{i}" for i in range(SEEN_KEPT * 2)])
    assert len(pending.kept().seen) == SEEN_KEPT
    assert pending.kept().seen[-1] == f"old-{SEEN_KEPT * 2 - 1}"
