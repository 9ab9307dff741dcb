"""restore_wave: put back what a rollout changed in one wave; mark_unrestored: say which
clusters a rollback that could not run left as they are.

Every cluster of the wave that this rollout wrote goes back, by what arcwave knows of it:

- its last good revision, written with the rollout's spec;
- else the configuration arcwave found there before its first write (its restore point);
- else nothing: arcwave created the configuration, so it is deleted.

The restore is then watched like a rollout (observe_wave), each cluster against its own
target, so a restore that fails is reported per cluster. Restores obey maintenance windows as
rollout writes do: a cluster whose windows are closed is left for a later call, once they open
(`outsideWindows`, `nextOpening`), unless an operator overrode the rollout's windows. Each
restore write carries its windows' close as a deadline; one the gateway did not send because
the window closed while it waited for ARM's write budget (`WindowClosed`) leaves its cluster as
it was, to be restored in the next opening, like the clusters outside their windows.

Writes that fail transiently fail the attempt (the orchestrator tries again; the clusters
already restored are not written twice); writes Azure refuses fail that cluster
(RollbackFailed).
"""

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from activities.windows import deadlines, gate_of, next_opening
from activities.writer import ConfigurationWriter
from shared.adapters.fleet import WINDOW_CLOSED, WriteOutcome
from shared.contracts.activities import (
    RESTORE,
    UNRESTORED,
    Counts,
    RestoreRequest,
    RestoreResult,
    UnrestoredRequest,
    describe_restore,
)
from shared.errors import TransientError
from shared.logs import fields
from shared.revision import short_revision
from shared.runtime import Runtime, act
from shared.states import ClusterState, RestoreKind
from shared.store import ClusterRecord

log = logging.getLogger("arcwave.activities.restore")
bp = df.Blueprint()

TRANSIENT = ("Transient", "Throttled")


def written_by(records: list[ClusterRecord], revision: str) -> list[ClusterRecord]:
    """The clusters a rollout of `revision` wrote and nobody has restored since."""
    return [r for r in records if r.written_at is not None and r.desired_revision == revision]


def restore(rt: Runtime, req: RestoreRequest) -> RestoreResult:
    rollout = rt.records.rollouts.get(req["track"], req["rolloutId"])
    spec = rollout.planned_spec()
    wave = rt.records.clusters.list(req["track"], rollout=req["rolloutId"], wave=req["wave"])
    gate = gate_of(rt, rollout, spec)
    changed = written_by(wave, req["revision"])
    # Restores are writes too: a cluster whose windows are closed is restored once they open.
    later = [r for r in changed if not gate.allows(r.windows)]
    changed = [r for r in changed if gate.allows(r.windows)]
    updated: list[ClusterRecord] = []
    tally: Counter[str] = Counter()
    transient: list[WriteOutcome] = []
    refused: list[str] = []
    writer = ConfigurationWriter(rt, spec)
    due = deadlines(gate, changed)
    closed: list[ClusterRecord] = []
    for kind, target, records in _targets(changed):
        for record, outcome, remember in _write(rt, writer, kind, target, records, due):
            if outcome is not None and outcome.error == WINDOW_CLOSED:
                closed.append(record)  # not sent: restored in the next opening
            elif outcome is not None and (
                outcome.ok or (kind is RestoreKind.REMOVAL and outcome.error == "NotFound")
            ):
                tally[kind.value] += 1
                updated.append(_restoring(rt, record, kind, target, remember))
            elif outcome is None or outcome.error in TRANSIENT:
                transient.append(
                    outcome
                    or WriteOutcome(
                        cluster_id=record.cluster_id,
                        ok=False,
                        error="Transient",
                        message=f"{record.name}: waiting for Azure to finish deleting the "
                        "configuration",
                    )
                )
            else:
                tally["failed"] += 1
                refused.append(outcome.message)
                updated.append(record.rollback_failed(outcome.message, rt.now()))
    if updated:
        rt.records.clusters.save_wave(updated)
    if transient:
        raise TransientError(
            f"{len(transient)} restores did not go through yet: {transient[0].message}"
        )
    result = RestoreResult(
        restored=tally[RestoreKind.REVISION.value],
        reinstated=tally[RestoreKind.ORIGINAL.value],
        removed=tally[RestoreKind.REMOVAL.value],
        failed=tally["failed"],
    )
    if closed:  # a window closed while restoring: when it opens again is new
        gate = gate_of(rt, rollout, spec)
        later += closed
    if later:
        result["outsideWindows"] = len(later)
        result["nextOpening"] = next_opening(gate, later)
    # Clusters Azure refused to restore are left as they are: a problem (WARNING, with the
    # first refusal); a restore that went through is the RolledBack decision recorded next.
    log.log(
        logging.WARNING if refused else logging.DEBUG,
        "restore %s",
        fields(
            rollout=req["rolloutId"],
            wave=req["wave"],
            result=describe_restore(result),
            refused=refused[0] if refused else None,
            outside_windows=len(later) or None,
        ),
    )
    return result


def _targets(
    changed: list[ClusterRecord],
) -> list[tuple[RestoreKind, str | None, list[ClusterRecord]]]:
    groups: dict[tuple[RestoreKind, str | None], list[ClusterRecord]] = {}
    for record in changed:
        key: tuple[RestoreKind, str | None]
        if record.last_good_revision is not None:
            key = (RestoreKind.REVISION, record.last_good_revision)
        elif record.restore_point is not None and record.restore_point.configuration:
            key = (RestoreKind.ORIGINAL, None)
        else:
            key = (RestoreKind.REMOVAL, None)
        groups.setdefault(key, []).append(record)
    return [(kind, target, records) for (kind, target), records in groups.items()]


def _write(
    rt: Runtime,
    writer: ConfigurationWriter,
    kind: RestoreKind,
    target: str | None,
    records: list[ClusterRecord],
    due: Mapping[str, datetime],
) -> list[tuple[ClusterRecord, WriteOutcome | None, dict[str, Any]]]:
    """Each record, the outcome of its restore write (None: not done yet) and what the record
    remembers of it; no write past its deadline (`due`, by cluster id)."""
    name = writer.name
    forget: dict[str, Any] = {
        "written_shape": None,
        "written_scope": None,
        "written_namespace": None,
        "recreating": False,
    }
    if kind is RestoreKind.REVISION:
        assert target is not None
        return [
            (w.record, w.outcome if w.how != "delete" or _closed(w.outcome) else None, w.remember)
            for w in writer.write(records, target, due)
        ]
    if kind is RestoreKind.REMOVAL:
        return [
            (r, rt.fleet.remove(r.cluster_id, name, deadline=due.get(r.cluster_id)), forget)
            for r in records
        ]
    restored: list[tuple[ClusterRecord, WriteOutcome | None, dict[str, Any]]] = []
    for record in records:
        assert record.restore_point is not None
        original: dict[str, Any] = record.restore_point.configuration or {}
        outcome = rt.fleet.put(
            record.cluster_id, name, original, deadline=due.get(record.cluster_id)
        )
        restored.append((record, outcome, forget))
    return restored


def _closed(outcome: WriteOutcome | None) -> bool:
    return outcome is not None and outcome.error == WINDOW_CLOSED


def _restoring(
    rt: Runtime,
    record: ClusterRecord,
    kind: RestoreKind,
    target: str | None,
    remember: dict[str, Any],
) -> ClusterRecord:
    messages = {
        RestoreKind.REVISION: f"restoring {short_revision(target or '')}",
        RestoreKind.ORIGINAL: "putting back the configuration found before arcwave's first write",
        RestoreKind.REMOVAL: "removing the configuration arcwave created",
    }
    return record.being_restored(kind, target, messages[kind], rt.now(), **remember)


def mark_unrestored(rt: Runtime, req: UnrestoredRequest) -> Counts:
    """A wave's rollback could not run: every cluster it would have restored, or was still
    restoring, is RollbackFailed with the reason. The wave's counts by state."""
    records = rt.records.clusters.list(req["track"], rollout=req["rolloutId"], wave=req["wave"])
    unrestored = {r.id for r in written_by(records, req["revision"])}
    settled = (ClusterState.ROLLBACK_FAILED, ClusterState.ROLLED_BACK)
    left = [
        r
        for r in records
        if r.state is ClusterState.ROLLING_BACK or (r.id in unrestored and r.state not in settled)
    ]
    now = rt.now()
    marked = [r.rollback_failed(f"rollback could not run: {req['error']}", now) for r in left]
    if marked:
        rt.records.clusters.save_wave(marked)
    by_id = {r.id: r for r in records} | {r.id: r for r in marked}
    return dict(Counter(r.state.value for r in by_id.values()))


@bp.activity_trigger(input_name="request", activity=RESTORE)
def restore_wave(request: RestoreRequest) -> RestoreResult:
    return act(restore, request, RESTORE)


@bp.activity_trigger(input_name="request", activity=UNRESTORED)
def mark_unrestored_wave(request: UnrestoredRequest) -> Counts:
    return act(mark_unrestored, request, UNRESTORED)
