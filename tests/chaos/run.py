"""One chaos run: start the stack, register the track, then for each phase push its commit while
its faults are carried out, until the rollout ends; then gather what the outside world saw
and check it (`tests.chaos.invariants`)."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.store.containers import decode_id
from tests.chaos.fleet import TRACK, Fleet, scenario, track_spec
from tests.chaos.inject import Delivery, Injector, Pusher
from tests.chaos.invariants import Observed, PhaseOutcome, Violation, check, repeats
from tests.chaos.plan import RETRY, Kind, Run, Size
from tests.chaos.stack import ChaosStack

HEAD = "0" * 39 + "1"
"""The branch head of the scenario: the push of the first phase moves it from here."""
POLL = 0.25
QUIET_SECONDS = 2.0
"""After the last phase: time for writes and events already under way to land."""


@dataclass
class RunResult:
    run: Run
    seconds: float = 0.0
    done: Counter[Kind] = field(default_factory=Counter)
    planned: int = 0
    outcomes: list[PhaseOutcome] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    repeats: int = 0
    """Lifecycle events received more than once under the same id (at-least-once)."""
    log: list[str] = field(default_factory=list)
    folder: Path | None = None

    @property
    def kills(self) -> int:
        return self.done[Kind.KILL]


def execute(run: Run, size: Size, folder: Path, fleet: Fleet) -> RunResult:
    result = RunResult(run, folder=folder)
    began = time.monotonic()
    seed = int.from_bytes(run.seed.encode(), "little") % (2**31)
    try:
        with ChaosStack(folder, scenario(fleet, seed), RETRY) as stack:
            stack.api_ok("PUT", f"tracks/{TRACK}", track_spec())
            deliveries: list[Delivery] = []
            previous = HEAD
            for number, phase in enumerate(run.phases, start=1):
                start = time.monotonic()
                pusher = Pusher(stack, phase.revision, previous, f"{run.seed}:{number}")
                injector = Injector(stack, phase.faults, start, pusher)
                delivery = pusher.wait()
                deliveries.append(delivery)
                state, rollout_id = _wait_for_end(stack, phase.revision, start, size)
                fleet_now = stack.api_ok("GET", f"fleet?track={TRACK}")["clusters"]
                injector.stop()
                result.done.update(injector.done)
                result.planned += injector.planned
                answers = _answers(delivery.answers)
                result.log.append(
                    f"phase {number}: {phase.revision[:12]} → {state or 'open'}; "
                    f"webhook answered {answers}"
                )
                result.log.extend(f"  {line}" for line in injector.log)
                result.violations.extend(
                    Violation("harness", f"phase {number}: {error}") for error in injector.errors
                )
                result.outcomes.append(
                    PhaseOutcome(
                        phase=phase,
                        rollout_id=rollout_id,
                        state=state,
                        seconds=time.monotonic() - start,
                        acknowledged=delivery.acknowledged,
                        fleet={c["name"]: c for c in fleet_now},
                    )
                )
                previous = phase.revision
            time.sleep(QUIET_SECONDS)
            if not stack.host.alive:
                result.violations.append(Violation("harness", "devhost exited by itself"))
                stack.host.start()
            observed = observe(stack, deliveries, result.outcomes)
        _dump(observed, folder / "observed.json")
        result.violations.extend(check(observed, fleet))
        result.repeats = repeats(observed.events)
    except Exception as error:
        result.violations.append(Violation("harness", f"{type(error).__name__}: {error}"))
    result.seconds = time.monotonic() - began
    return result


def _wait_for_end(
    stack: ChaosStack, revision: str, start: float, size: Size
) -> tuple[str | None, str | None]:
    """The final state and id of the rollout the push of `revision` started; state None when
    it did not end within the phase's time."""
    deadline = start + size.phase_timeout
    rollout_id: str | None = None
    while time.monotonic() < deadline:
        pushed = [
            r
            for r in stack.records.rollouts.list(TRACK)
            if r.revision == revision and r.trigger.kind.startswith("git:")
        ]
        if pushed:
            rollout_id = pushed[0].id
            if all(r.state.is_terminal for r in pushed):
                return pushed[0].state.value, rollout_id
        time.sleep(POLL)
    return None, rollout_id


def observe(
    stack: ChaosStack, deliveries: list[Delivery], outcomes: list[PhaseOutcome]
) -> Observed:
    """Everything the checks look at, read from the outside: the emulator's write log, the
    operator API (rollouts, their waves and clusters, their timelines), the timeline's entries
    by step key (from the store, which the API does not show) and the CloudEvents the topic
    received."""
    listed = stack.api_ok("GET", f"rollouts?track={TRACK}")["rollouts"]
    rollouts: list[dict[str, Any]] = []
    timelines: dict[str, list[dict[str, Any]]] = {}
    steps: dict[str, list[dict[str, Any]]] = {}
    for item in listed:
        rid = item["id"]
        rollouts.append(stack.api_ok("GET", f"rollouts/{rid}"))
        timelines[rid] = stack.api_ok("GET", f"rollouts/{rid}/timeline")["timeline"]
        steps[rid] = [
            {
                "key": _key(entry.id),
                "time": entry.time,
                "reason": entry.reason.value,
                "actor": entry.actor,
                "data": entry.data,
            }
            for entry in stack.records.timeline.list(rid)
        ]
    return Observed(
        writes=stack.control(lambda c: c.writes()),
        rollouts=rollouts,
        timelines=timelines,
        steps=steps,
        events=[event for _, batch in list(stack.topic.requests) for event in _batch(batch)],
        deliveries=deliveries,
        outcomes=outcomes,
    )


def _answers(answers: list[tuple[float, int, Any]]) -> str:
    """`0 x12, 202, 200 duplicate`: each answer (0: no answer, devhost away), runs folded."""
    said = [
        f"{code} duplicate" if isinstance(body, dict) and body.get("duplicate") else str(code)
        for _, code, body in answers
    ]
    folded: list[str] = []
    for text, run in itertools.groupby(said):
        n = len(list(run))
        folded.append(f"{text} x{n}" if n > 1 else text)
    return ", ".join(folded)


def _dump(seen: Observed, path: Path) -> None:
    """What the checks looked at, for a post-mortem (kept with the logs of a failed run)."""
    data = {
        "writes": seen.writes,
        "rollouts": seen.rollouts,
        "timelines": seen.timelines,
        "steps": seen.steps,
        "events": seen.events,
        "deliveries": [
            {"revision": d.revision, "deliveryId": d.delivery_id, "answers": d.answers}
            for d in seen.deliveries
        ],
        "outcomes": [
            {
                "revision": o.phase.revision,
                "expected": o.phase.expected,
                "rolloutId": o.rollout_id,
                "state": o.state,
                "seconds": o.seconds,
                "faults": [f.describe() for f in o.phase.faults],
            }
            for o in seen.outcomes
        ],
    }
    path.write_text(json.dumps(data, indent=1, default=str))


def _key(encoded: str) -> str:
    try:
        return decode_id(encoded)
    except ValueError:
        return encoded


def _batch(body: Any) -> list[dict[str, Any]]:
    return [e for e in (body if isinstance(body, list) else [body]) if isinstance(e, dict)]
