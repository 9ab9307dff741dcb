"""The chaos suite's checks catch what they name: a made-up run that keeps every promise,
then one broken promise at a time (a check that can never fail proves nothing)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.events import EventType, event_id
from tests.chaos.fleet import TRACK, WAVES, Fleet
from tests.chaos.inject import Delivery
from tests.chaos.invariants import (
    EVENTS,
    OUTCOME,
    PUSHES,
    REVISIONS,
    TIMELINE,
    WAVE_ORDER,
    WINDOW,
    Observed,
    PhaseOutcome,
    check,
    expected_events,
    peaks,
    repeats,
)
from tests.chaos.plan import Phase

FLEET = Fleet.of_size(20)
GOOD = "a" * 40
BAD = "bad" + "c" * 37
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return at(seconds).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write(seconds: float, cluster: str, commit: str, method: str = "PUT") -> dict[str, Any]:
    return {
        "time": stamp(seconds),
        "cluster": cluster,
        "method": method,
        "commit": commit,
        "status": 200,
    }


def steps(
    begin: float, verdicts: list[tuple[str, str]], end: str, *, rollback: list[str]
) -> list[dict[str, Any]]:
    """Timeline steps: started at `begin`, each wave started and judged 2 s apart."""
    made = [{"key": "started", "time": at(begin), "reason": "RolloutStarted", "data": {}}]
    t = begin
    for wave, verdict in verdicts:
        reason = "WaveSucceeded" if verdict == "succeeded" else "FailureBudgetExceeded"
        made.append(
            {
                "key": f"wave/{wave}/started",
                "time": at(t + 0.1),
                "reason": "WaveStarted",
                "data": {"wave": wave},
            }
        )
        t += 2
        made.append(
            {
                "key": f"wave/{wave}/{verdict}",
                "time": at(t),
                "reason": reason,
                "data": {"wave": wave},
            }
        )
    if rollback:
        made.append(
            {"key": "rolling-back", "time": at(t + 0.5), "reason": "RollingBack", "data": {}}
        )
        for wave in rollback:
            t += 1
            made.append(
                {
                    "key": f"wave/{wave}/rolled-back",
                    "time": at(t + 0.5),
                    "reason": "RolledBack",
                    "data": {"wave": wave},
                }
            )
    made.append({"key": end, "time": at(t + 1), "reason": "X", "data": {}})
    for step in made:
        step["actor"] = "arcwave"
    return made


def detail(rid: str, revision: str, state: str, wave_states: list[str]) -> dict[str, Any]:
    return {
        "id": rid,
        "revision": revision,
        "state": state,
        "message": "",
        "trigger": {"kind": "git:github"},
        "waves": [
            {"name": w, "state": s, "clusters": []} for w, s in zip(WAVES, wave_states, strict=True)
        ],
    }


def events_of(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "specversion": "1.0",
            "id": event_id(TRACK, subject, kind.value, key),
            "type": kind.value,
            "source": f"/arcwave/tracks/{TRACK}",
            "subject": subject,
            "time": stamp(0),
            "data": {"rolloutId": d["id"], "revision": d["revision"]},
        }
        for subject, kind, key in expected_events(d)
    ]


def a_run() -> Observed:
    """A good rollout from 0 s, then a bad one from 20 s rolled back from `mid` to GOOD."""
    good = detail("g", GOOD, "Succeeded", ["Succeeded"] * 4)
    bad = detail("b", BAD, "RolledBack", ["RolledBack"] * 3 + ["Pending"])
    writes = []
    for index, wave in enumerate(WAVES):
        writes += [write(1 + 2 * index, c, GOOD) for c in FLEET.rings[wave]]
    for index, wave in enumerate(WAVES[:3]):
        writes += [write(21 + 2 * index, c, BAD) for c in FLEET.rings[wave]]
    for index, wave in enumerate(reversed(WAVES[:3])):
        writes += [write(27 + index, c, GOOD, "PATCH") for c in FLEET.rings[wave]]
    fleet_after_bad = {
        c: {"name": c, "lastGoodRevision": GOOD, "lastRolloutId": "b"} for c in FLEET.names
    }
    fleet_after_good = {
        c: {
            "name": c,
            "lastGoodRevision": GOOD,
            "lastRolloutId": "g",
            "state": "Healthy",
            "settledAt": stamp(1.5 + 2 * WAVES.index(FLEET.wave_of(c))),
        }
        for c in FLEET.names
    }
    verdicts = [(w, "succeeded") for w in WAVES]
    bad_verdicts = [("canary", "succeeded"), ("early", "succeeded"), ("mid", "failed")]
    return Observed(
        writes=writes,
        rollouts=[bad, good],
        timelines={"g": [{}] * 10, "b": [{}] * 12},
        steps={
            "g": steps(0, verdicts, "succeeded", rollback=[]),
            "b": steps(20, bad_verdicts, "finished", rollback=["mid", "early", "canary"]),
        },
        events=events_of(good) + events_of(bad),
        deliveries=[
            Delivery(
                GOOD,
                "d1",
                b"{}",
                [(0.1, 0, None), (2.0, 202, {"tracks": [{"track": TRACK, "rolloutId": "g"}]})],
                2.0,
            ),
            Delivery(
                BAD,
                "d2",
                b"{}",
                [
                    (0.1, 202, {"tracks": [{"track": TRACK, "rolloutId": "b"}]}),
                    (5.0, 200, {"duplicate": True}),
                ],
                0.1,
            ),
        ],
        outcomes=[
            PhaseOutcome(Phase(GOOD, False, []), "g", "Succeeded", 10, True, fleet_after_good),
            PhaseOutcome(Phase(BAD, True, []), "b", "RolledBack", 10, True, fleet_after_bad),
        ],
    )


def invariants(seen: Observed) -> set[str]:
    return {v.invariant for v in check(seen, FLEET)}


def test_a_run_that_keeps_every_promise_has_no_violation() -> None:
    seen = a_run()
    assert check(seen, FLEET) == []
    assert repeats(seen.events) == 0


def test_the_same_event_twice_is_at_least_once_delivery_not_a_violation() -> None:
    seen = a_run()
    again = copy.deepcopy(seen.events[3])
    again["time"] = stamp(99)
    seen.events.append(again)
    assert check(seen, FLEET) == []
    assert repeats(seen.events) == 1


def broken(change: str, monkeypatch: pytest.MonkeyPatch) -> Observed:
    seen = a_run()
    mid = FLEET.rings["mid"][0]
    if change == "foreign revision":
        seen.writes.append(write(8, FLEET.rings["broad"][0], "f" * 40))
    elif change == "write outside every rollout":
        seen.writes.append(write(15, FLEET.rings["broad"][0], GOOD))
    elif change == "removed instead of restored":
        seen.writes.append(write(29.5, mid, None, "DELETE"))  # type: ignore[arg-type]
    elif change == "wave before the previous verdict":
        seen.writes.append(write(1.5, FLEET.rings["early"][0], GOOD))
    elif change == "bad revision after the rollback began":
        seen.writes.append(write(26.9, mid, BAD))
    elif change == "left on the bad commit":
        seen.writes.append(write(29.9, mid, BAD))
    elif change == "ended wrong":
        seen.outcomes[1].state = "Succeeded"
    elif change == "not ended":
        seen.outcomes[1].state = None
    elif change == "two rollouts for one push":
        extra = copy.deepcopy(seen.rollouts[0])
        extra["id"] = "b2"
        seen.rollouts.append(extra)
    elif change == "push not acknowledged":
        seen.deliveries[0].acknowledged_at = None
    elif change == "a rollout nobody pushed":
        extra = detail("x", "e" * 40, "Pending", ["Pending"] * 4)
        seen.rollouts.append(extra)
    elif change == "two events share an id":
        other = copy.deepcopy(seen.events[2])
        other["data"]["reason"] = "something else"
        seen.events.append(other)
    elif change == "an event missing":
        seen.events.pop(1)
    elif change == "an event that should not be":
        stray = copy.deepcopy(seen.events[-1])
        stray["id"], stray["type"] = "stray", EventType.ROLLOUT_SUCCEEDED.value
        seen.events.append(stray)
    elif change == "a decision recorded twice":
        twice = dict(seen.steps["g"][2], key="wave/canary/succeeded-again")
        seen.steps["g"].append(twice)
        seen.timelines["g"].append({})
    elif change == "a rollout ended twice":
        seen.steps["b"].append(
            {
                "key": "succeeded",
                "time": at(40),
                "reason": "RolloutSucceeded",
                "data": {},
                "actor": "arcwave",
            }
        )
        seen.timelines["b"].append({})
    elif change == "over the window":
        # early (4 clusters, written at once) against a window of 2 in flight
        windows = {"early": (2, None)}
        monkeypatch.setattr("tests.chaos.invariants.caps", lambda: windows)
    return seen


@pytest.mark.parametrize(
    ("change", "invariant"),
    [
        ("foreign revision", REVISIONS),
        ("write outside every rollout", REVISIONS),
        ("removed instead of restored", REVISIONS),
        ("wave before the previous verdict", WAVE_ORDER),
        ("bad revision after the rollback began", WAVE_ORDER),
        ("left on the bad commit", OUTCOME),
        ("ended wrong", OUTCOME),
        ("not ended", OUTCOME),
        ("two rollouts for one push", PUSHES),
        ("push not acknowledged", PUSHES),
        ("a rollout nobody pushed", PUSHES),
        ("two events share an id", EVENTS),
        ("an event missing", EVENTS),
        ("an event that should not be", EVENTS),
        ("a decision recorded twice", TIMELINE),
        ("a rollout ended twice", TIMELINE),
        ("over the window", WINDOW),
    ],
)
def test_each_broken_promise_is_caught_by_its_check(
    change: str, invariant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invariant in invariants(broken(change, monkeypatch))


def test_spans_that_only_touch_do_not_overlap() -> None:
    spans = [(at(0), at(1), "site-1"), (at(1), at(2), "site-1"), (at(0.5), at(3), "site-2")]
    assert peaks(spans) == (2, 1)
