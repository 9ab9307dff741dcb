"""The promises of docs/reliability.md, checked after a run from the outside: the emulator's
write log (Azure's record of every write arcwave attempted), the operator API (rollouts,
waves, clusters, timelines), the timeline's step keys (the store), the CloudEvents the topic
received and the answers the webhook gave.

Each check returns `Violation`s named by its invariant; none means the promise held.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.events import EventType, event_id
from tests.chaos.fleet import TRACK, Fleet, caps

if TYPE_CHECKING:
    from tests.chaos.inject import Delivery
    from tests.chaos.plan import Phase

OUTCOME = "outcome"
REVISIONS = "revisions"
WAVE_ORDER = "wave order"
PUSHES = "push → rollout"
EVENTS = "events"
TIMELINE = "timeline"
WINDOW = "window"
HARNESS = "harness"
INVARIANTS = (OUTCOME, REVISIONS, WAVE_ORDER, WINDOW, PUSHES, EVENTS, TIMELINE)
TERMINAL_KEYS = ("succeeded", "finished", "failed")
"""Step keys of a rollout's end (`orchestrators/rollout.py`, `closing.py`)."""
REPEATABLE = {"Paused", "Resumed"}
"""Decisions a rollout may take more than once (each pause has its own key)."""


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str


@dataclass
class PhaseOutcome:
    phase: Phase
    rollout_id: str | None
    state: str | None
    """The rollout's final state; None when it did not end in time."""
    seconds: float
    acknowledged: bool
    fleet: dict[str, dict[str, Any]]
    """`GET /api/fleet` as the rollout ended, by cluster name: each cluster's last good
    revision and the rollout that last planned it."""


@dataclass
class Observed:
    writes: list[dict[str, Any]]
    rollouts: list[dict[str, Any]]
    """`GET /api/rollouts/{id}` of every rollout of the track."""
    timelines: dict[str, list[dict[str, Any]]]
    """`GET /api/rollouts/{id}/timeline`, by rollout id."""
    steps: dict[str, list[dict[str, Any]]]
    """The timeline's entries with their step keys, by rollout id."""
    events: list[dict[str, Any]]
    deliveries: list[Delivery]
    outcomes: list[PhaseOutcome]


def when(text: str | datetime) -> datetime:
    if isinstance(text, datetime):
        return text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check(seen: Observed, fleet: Fleet) -> list[Violation]:
    found: list[Violation] = []
    rollouts = Rollouts(seen)
    found += check_outcomes(seen, rollouts)
    found += check_writes(seen, rollouts, fleet)
    found += check_window(seen, rollouts, fleet)
    found += check_pushes(seen, rollouts)
    found += check_events(seen, rollouts)
    found += check_timeline(seen)
    return found


class Rollouts:
    """The rollouts of the run with the window each ran in (from its `started` step to its
    last step), by id."""

    def __init__(self, seen: Observed) -> None:
        self.outcomes = seen.outcomes
        self.detail = {r["id"]: r for r in seen.rollouts}
        self.steps = {
            rid: {s["key"]: when(s["time"]) for s in steps} for rid, steps in seen.steps.items()
        }
        self.window: dict[str, tuple[datetime, datetime | None]] = {}
        for rid, detail in self.detail.items():
            times = self.steps.get(rid, {})
            if "started" not in times:
                continue
            end = max(times.values()) if _terminal(detail) else None
            self.window[rid] = (times["started"], end)

    def owner(self, at: datetime) -> list[str]:
        return [
            rid
            for rid, (start, end) in self.window.items()
            if start <= at and (end is None or at <= end)
        ]

    def restore_targets(self, rid: str, cluster: str) -> set[str | None]:
        """What a rollback of `rid` may put on `cluster`: its last good revision, or None (the
        configuration removed: arcwave created it, there was no last good).

        Exact from the fleet as the rollout ended when the cluster's record still belongs to
        `rid` (a bad rollout leaves last good revisions as they were). When a catch-up has
        planned the cluster since, its last good may have moved after the rollback: then any
        revision the track had succeeded with before `rid`, or removal."""
        for outcome in self.outcomes:
            if outcome.rollout_id == rid:
                record = outcome.fleet.get(cluster)
                if record is not None and record.get("lastRolloutId") == rid:
                    return {record.get("lastGoodRevision")}
        start = self.window[rid][0]
        succeeded = {
            self.detail[other]["revision"]
            for other, (_, end) in self.window.items()
            if end is not None and end < start and self.detail[other]["state"] == "Succeeded"
        }
        return {None, *succeeded}


def _terminal(detail: dict[str, Any]) -> bool:
    return detail["state"] in ("Succeeded", "Failed", "RolledBack", "Aborted", "Superseded")


def check_outcomes(seen: Observed, rollouts: Rollouts) -> list[Violation]:
    """Each pushed rollout ended, as its commit deserves: Succeeded for a good one, RolledBack
    for a bad one, and then no cluster left on the bad commit."""
    found = []
    for number, outcome in enumerate(seen.outcomes, start=1):
        phase, rid = outcome.phase, outcome.rollout_id
        detail = rollouts.detail.get(rid or "")
        if outcome.state is None:
            state = detail["state"] if detail else "no rollout"
            found.append(
                Violation(
                    OUTCOME,
                    f"phase {number}: {phase.revision[:12]} not ended after "
                    f"{outcome.seconds:.0f}s (state {state})",
                )
            )
            continue
        if outcome.state != phase.expected:
            message = detail["message"] if detail else ""
            found.append(
                Violation(
                    OUTCOME,
                    f"phase {number}: {phase.revision[:12]} ended {outcome.state}, expected "
                    f"{phase.expected}: {message}",
                )
            )
        if phase.bad and rid in rollouts.window:
            found += _left_on(seen.writes, rollouts, rid, phase.revision)
    return found


def _left_on(
    writes: list[dict[str, Any]], rollouts: Rollouts, rid: str, revision: str
) -> list[Violation]:
    start, end = rollouts.window[rid]
    last: dict[str, dict[str, Any]] = {}
    for write in writes:
        at = when(write["time"])
        if write["status"] < 300 and start <= at and (end is None or at <= end):
            last[write["cluster"]] = write
    return [
        Violation(OUTCOME, f"{rid}: {name} left on {revision[:12]} after the rollback")
        for name, write in sorted(last.items())
        if write["method"] != "DELETE" and write["commit"] == revision
    ]


def check_writes(seen: Observed, rollouts: Rollouts, fleet: Fleet) -> list[Violation]:
    """Every write (attempted, whatever ARM answered) belongs to exactly one rollout of the
    track and carries that rollout's revision, or during its rollback the cluster's restore
    target; a wave's clusters are written only after the previous wave's verdict, and nothing
    of the rollout's revision once its rollback began."""
    found = []
    known = set(fleet.names)
    for write in seen.writes:
        at, name = when(write["time"]), write["cluster"]
        what = f"{write['method']} {name} {str(write['commit'])[:12]} at {write['time']}"
        if name not in known:
            found.append(Violation(REVISIONS, f"{what}: not a cluster of the fleet"))
            continue
        owners = rollouts.owner(at)
        if len(owners) != 1:
            found.append(
                Violation(REVISIONS, f"{what}: made while {len(owners)} rollouts ran {owners}")
            )
            continue
        found += _write_of(rollouts, owners[0], write, at, what, fleet)
    return found


def _write_of(
    rollouts: Rollouts, rid: str, write: dict[str, Any], at: datetime, what: str, fleet: Fleet
) -> list[Violation]:
    detail, steps = rollouts.detail[rid], rollouts.steps[rid]
    revision, name = detail["revision"], write["cluster"]
    waves = [w["name"] for w in detail["waves"]]
    # A cluster's wave is its ring (the track's selectors); a catch-up has one wave. The API
    # cannot say it for an older rollout: a cluster's record belongs to its latest rollout.
    wave = waves[0] if len(waves) == 1 else fleet.wave_of(name)
    rolling_back = steps.get("rolling-back")
    in_rollback = rolling_back is not None and at > rolling_back
    if write["method"] != "DELETE" and write["commit"] == revision:
        if wave not in waves:
            return [Violation(REVISIONS, f"{what}: wave '{wave}' is not in the plan of {rid}")]
        if in_rollback:
            return [Violation(WAVE_ORDER, f"{what}: {rid}'s revision after its rollback began")]
        index = waves.index(wave)
        if index == 0:
            return []
        before = waves[index - 1]
        verdict = steps.get(f"wave/{before}/succeeded") or steps.get(f"wave/{before}/empty")
        if verdict is None:
            return [Violation(WAVE_ORDER, f"{what}: wave '{before}' of {rid} never passed")]
        if at <= verdict:
            return [
                Violation(
                    WAVE_ORDER,
                    f"{what}: before wave '{before}' of {rid} was judged ({verdict.isoformat()})",
                )
            ]
        return []
    if not in_rollback:
        return [Violation(REVISIONS, f"{what}: not {rid}'s revision {revision[:12]}")]
    targets = rollouts.restore_targets(rid, name)
    got = None if write["method"] == "DELETE" else write["commit"]
    if got not in targets:
        wanted = " or ".join(t[:12] if t else "removal" for t in sorted(targets, key=str))
        return [Violation(REVISIONS, f"{what}: a restore of {rid} must be {wanted}")]
    return []


def check_window(seen: Observed, rollouts: Rollouts, fleet: Fleet) -> list[Violation]:
    """At no instant were more clusters of a wave between their first write and their verdict
    than `maxConcurrency`, nor more of one site than `perSiteConcurrency`.

    Measured from outside, each interval runs from the write as ARM logged it (after arcwave
    recorded the cluster in flight) to `settledAt` as the fleet showed it when the rollout
    ended (the verdict, recorded after Azure reported it): inside the app's own interval, so a
    peak over the cap here is one in the app too. Clusters whose record a later rollout (a
    rollback, a catch-up) has rewritten are left out."""
    found = []
    windows = caps()
    for outcome in seen.outcomes:
        rid = outcome.rollout_id
        if rid is None or rid not in rollouts.window:
            continue
        start, end = rollouts.window[rid]
        revision = rollouts.detail[rid]["revision"]
        settled: dict[str, datetime] = {}
        for name, record in outcome.fleet.items():
            judged = record.get("state") in ("Healthy", "Failed", "Skipped")
            if judged and record.get("lastRolloutId") == rid and record.get("settledAt"):
                settled[name] = when(record["settledAt"])
        first: dict[str, datetime] = {}
        for write in seen.writes:
            at, name = when(write["time"]), write["cluster"]
            inside = start <= at and (end is None or at <= end)
            if inside and write["commit"] == revision and name in settled and name not in first:
                first[name] = at
        for wave, (cap, site_cap) in windows.items():
            names = [n for n in first if fleet.wave_of(n) == wave]
            peak, site_peak = peaks([(first[n], settled[n], fleet.site_of(n)) for n in names])
            if peak > cap:
                found.append(Violation(WINDOW, f"{rid}: {peak} of wave '{wave}' in flight > {cap}"))
            if site_cap is not None and site_peak > site_cap:
                found.append(
                    Violation(WINDOW, f"{rid}: {site_peak} of one site in '{wave}' > {site_cap}")
                )
    return found


def peaks(spans: list[tuple[datetime, datetime, str]]) -> tuple[int, int]:
    """The most spans open at once, overall and within one site (a span ending at the instant
    another begins does not overlap it)."""
    edges = sorted(
        [(begin, 1, site) for begin, _, site in spans]
        + [(end, -1, site) for _, end, site in spans],
        key=lambda e: (e[0], e[1]),
    )
    live: Counter[str] = Counter()
    peak = site_peak = 0
    for _, delta, site in edges:
        live[site] += delta
        peak = max(peak, sum(live.values()))
        site_peak = max(site_peak, max(live.values()))
    return peak, site_peak


def check_pushes(seen: Observed, rollouts: Rollouts) -> list[Violation]:
    """Every push the webhook acknowledged started exactly one rollout, of its commit; every
    delivery of it that was answered 202 named that rollout; no rollout came from elsewhere."""
    found = []
    pushed = defaultdict(list)
    for detail in rollouts.detail.values():
        if str(detail["trigger"]["kind"]).startswith("git:"):
            pushed[detail["revision"]].append(detail["id"])
    revisions = {d.revision for d in seen.deliveries}
    for delivery in seen.deliveries:
        short = delivery.revision[:12]
        answers = ", ".join(str(code) for _, code, _ in delivery.answers)
        if not delivery.acknowledged:
            found.append(Violation(PUSHES, f"push of {short} never acknowledged ({answers})"))
            continue
        ids = pushed.get(delivery.revision, [])
        if len(ids) != 1:
            found.append(Violation(PUSHES, f"push of {short} led to {len(ids)} rollouts {ids}"))
        named = delivery.rollout_ids()
        if not named <= set(ids):
            found.append(Violation(PUSHES, f"push of {short} answered {named}, ran {ids}"))
    for revision, ids in pushed.items():
        if revision not in revisions:
            found.append(Violation(PUSHES, f"rollouts {ids} of {revision[:12]}: never pushed"))
    return found


def expected_events(detail: dict[str, Any]) -> list[tuple[str, EventType, str]]:
    """(subject, type, step key) of every lifecycle event a rollout that ended this way
    publishes; empty for ends the runs never expect (they fail the outcome check)."""
    rid, state = detail["id"], detail["state"]
    waves = [w for w in detail["waves"] if w["state"] != "Skipped"]
    if state == "Succeeded":
        judged = [(w["name"], True) for w in waves]
        end = ("succeeded", EventType.ROLLOUT_SUCCEEDED)
    elif state == "RolledBack":
        changed = [w["name"] for w in waves if w["state"] == "RolledBack"]
        judged = [(name, name != changed[-1]) for name in changed]
        end = ("finished", EventType.ROLLOUT_ROLLED_BACK)
    else:
        return []
    subject = f"rollouts/{rid}"
    expected = [(subject, EventType.ROLLOUT_STARTED, "started")]
    for name, passed in judged:
        on = f"{subject}/waves/{name}"
        expected.append((on, EventType.WAVE_STARTED, f"wave/{name}/started"))
        if passed:
            expected.append((on, EventType.WAVE_SUCCEEDED, f"wave/{name}/succeeded"))
        else:
            expected.append((on, EventType.WAVE_FAILED, f"wave/{name}/failed"))
    expected.append((subject, end[1], end[0]))
    return expected


def _same_event(event: dict[str, Any]) -> str:
    """What makes two deliveries the same event: all but `time` (a retried publish stamps
    its own moment)."""
    return json.dumps(
        {k: event.get(k) for k in ("specversion", "type", "source", "subject", "data")},
        sort_keys=True,
    )


def check_events(seen: Observed, rollouts: Rollouts) -> list[Violation]:
    """No two different events share an id; every event a finished rollout owes arrived, under
    the id derived from its step; nothing else arrived for it. The same event arriving more
    than once is at-least-once delivery (counted, not a violation)."""
    found = []
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in seen.events:
        by_id[str(event.get("id"))].append(event)
    for eid, copies in by_id.items():
        kinds = {_same_event(e) for e in copies}
        if len(kinds) > 1:
            found.append(Violation(EVENTS, f"id {eid} carried {len(kinds)} different events"))
    owed: dict[str, set[str]] = {}
    for rid, detail in rollouts.detail.items():
        expected = {event_id(TRACK, s, t.value, k): (s, t) for s, t, k in expected_events(detail)}
        if not expected:  # still running, or an end the outcome check reports
            continue
        owed[rid] = set(expected)
        for eid, (subject, kind) in expected.items():
            if eid not in by_id:
                found.append(Violation(EVENTS, f"{kind.value} of {subject} never arrived"))
    for eid, copies in by_id.items():
        event = copies[0]
        rid = str((event.get("data") or {}).get("rolloutId"))
        if rid in owed and eid not in owed[rid]:
            found.append(
                Violation(EVENTS, f"unexpected {event.get('type')} of {event.get('subject')}")
            )
        elif rid not in rollouts.detail:
            found.append(
                Violation(EVENTS, f"{event.get('type')} of {event.get('subject')}: no rollout")
            )
    return found


def repeats(events: Iterable[dict[str, Any]]) -> int:
    """Deliveries of an event id already received (at-least-once publishing)."""
    counts = Counter(str(e.get("id")) for e in events)
    return sum(n - 1 for n in counts.values())


def check_timeline(seen: Observed) -> list[Violation]:
    """Every step is recorded once: no key twice, no decision (reason, wave, cluster) twice,
    at most one end and one verdict per wave; the API shows what the store holds."""
    found = []
    for rid, steps in seen.steps.items():
        keys = Counter(s["key"] for s in steps)
        found += [
            Violation(TIMELINE, f"{rid}: step '{key}' recorded {n} times")
            for key, n in keys.items()
            if n > 1
        ]
        decisions = Counter(
            (s["reason"], s["data"].get("wave"), s["data"].get("clusterId"))
            for s in steps
            if s["reason"] not in REPEATABLE and s.get("actor", "arcwave") == "arcwave"
        )
        found += [
            Violation(TIMELINE, f"{rid}: decision {reason} (wave {wave}) recorded {n} times")
            for (reason, wave, _), n in decisions.items()
            if n > 1
        ]
        ends = [k for k in keys if k in TERMINAL_KEYS]
        if len(ends) > 1:
            found.append(Violation(TIMELINE, f"{rid}: ended {len(ends)} times: {ends}"))
        verdicts = Counter(
            k.split("/")[1]
            for k in keys
            if k.startswith("wave/") and k.endswith(("/succeeded", "/failed"))
        )
        found += [
            Violation(TIMELINE, f"{rid}: wave '{wave}' judged {n} times")
            for wave, n in verdicts.items()
            if n > 1
        ]
        shown = len(seen.timelines.get(rid, []))
        if shown != len(steps):
            found.append(
                Violation(TIMELINE, f"{rid}: the API shows {shown} entries, the store {len(steps)}")
            )
    return found
