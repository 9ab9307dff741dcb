"""advance_wave: one step of a wave's in-flight window.

    finish writes a crashed attempt left half done, and re-creates under way (Applying)
    judge the clusters in flight (observe_wave's verdicts)
    unless the rollout is held or the wave's failure budget is spent:
        write the next pending clusters whose maintenance windows are open now, in order,
        into the free slots of the window
    once nothing is left to write: say when to look again (`nextLookIn`, `shared.cadence`),
        soon after the last write is expected to have reconciled

A cluster bound by maintenance windows (`ClusterRecord.windows`, resolved at plan time) is
written only while all of them are open, unless an operator overrode the rollout's windows;
the result counts the clusters held back (`outsideWindows`) and says when the first of them
may be written (`nextOpening`), so the wave sleeps until then at most. The first write of a
wave with windows is on the timeline (`wave/<name>/first-write`). Each write carries its
windows' close as a deadline: a batch that ARM's write budget paces past the close is cut
there, and the writes the gateway did not send (`WindowClosed`) go back to Pending, no failure,
for the next opening.

Before arcwave's first write to a cluster it records the configuration it finds there (its
restore point). A write is recorded ahead (`Applying`, with the revision) and then done, so a
crash in between leaves a cluster that the next attempt writes again, never one written
without a record. A write recorded ahead and then not sent because its window closed is
undone: the record goes back to Pending as it was before (its restore point kept); a crash
before that leaves it Applying, written again in the next opening like any leftover, and so
does a write the gateway cut off after an earlier attempt of it reached ARM (it may have
landed, so its record keeps the revision for a rollback). Offline clusters are left alone
under `offline: skip` (Skipped, for catch-up) and free their slot at once; under `fail` and
`wait` they are written like the rest. Writes that still fail transiently after the gateway's
own retries fail the attempt, to be tried again by the orchestrator; permanent refusals fail
that cluster (ApplyFailed).
"""

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import azure.durable_functions as df

from activities.cadence import next_look
from activities.observe import judge, merged
from activities.windows import deadlines, gate_of, next_opening, note_first_write
from activities.writer import ConfigurationWriter
from shared.adapters.fleet import WINDOW_CLOSED, WriteOutcome
from shared.contracts.activities import (
    ADVANCE,
    AdvanceResult,
    WaveRef,
    failure_reasons,
    hold,
)
from shared.desired import restorable
from shared.errors import TransientError
from shared.logs import fields
from shared.planner import window_size
from shared.reasons import Reason
from shared.runtime import Runtime, act, control_of
from shared.states import ClusterState
from shared.store import ClusterRecord, RestorePoint
from shared.trackspec import OfflinePolicy, TrackSpec
from shared.window import Window, budget_spent, next_to_write

log = logging.getLogger("arcwave.activities.advance")
bp = df.Blueprint()


def advance(rt: Runtime, ref: WaveRef) -> AdvanceResult:
    rollout = rt.records.rollouts.get(ref["track"], ref["rolloutId"])
    spec = rollout.planned_spec()
    wave = spec.wave(ref["wave"])
    records = rt.records.clusters.list(ref["track"], rollout=ref["rolloutId"], wave=ref["wave"])
    gate = gate_of(rt, rollout, spec)
    writer = _Writer(rt, spec, ref["revision"])
    leftovers = [r for r in records if r.state is ClusterState.APPLYING and gate.allows(r.windows)]
    # Written again, recorded ahead again: its progress deadline runs from this write, not
    # from one a crash (or a window's close) left undone, maybe hours ago. A re-create keeps
    # the time of its delete, which its own deadline runs from.
    again = [r if r.recreating else writer.ahead(r) for r in leftovers]
    redone, closed = writer.write(again, deadlines(gate, leftovers))
    records = merged(records, redone)
    judged = [r for r in records if r.state.is_open and r.state is not ClusterState.APPLYING]
    records = merged(records, judge(rt, spec, judged, catch_up=rollout.is_catch_up))
    held = hold(control_of(rollout))
    allowed = wave.max_failures.floor_of(len(records))
    spent = budget_spent(sum(r.state.counts_as_failure for r in records), allowed)
    window = Window(max(1, window_size(wave, len(records))), wave.per_site_concurrency)
    written = 0
    first_write: datetime | None = None
    while held is None and not spent and not closed:
        gate = gate_of(rt, rollout, spec) if written else gate  # a later batch: look again
        pending = sorted(
            (r for r in records if r.state is ClusterState.PENDING and gate.allows(r.windows)),
            key=lambda r: r.position or 0,
        )
        chosen = next_to_write(pending, [r for r in records if r.state.is_open], window)
        if not chosen:
            break
        skipped = writer.skip_offline(chosen)
        chosen = writer.with_restore_points(
            [r for r in chosen if r.id not in {s.id for s in skipped}]
        )
        writer.report_foreign(ref["rolloutId"], chosen)
        first_write = first_write or writer.now()
        due = deadlines(gate, chosen)
        done, closed = writer.write([writer.ahead(r) for r in chosen], due, chosen)
        records = merged(records, [*skipped, *done])
        written += sum(r.state is not ClusterState.PENDING for r in done)
        spent = budget_spent(sum(r.state.counts_as_failure for r in records), allowed)
    if closed:  # a window closed while writing: what is held back, and until when, is new
        gate = gate_of(rt, rollout, spec)
    note_first_write(
        rt, ref["rolloutId"], ref["wave"], records, written, gate, first_write or gate.now
    )
    pending_left = [r for r in records if r.state is ClusterState.PENDING]
    in_flight = sum(r.state.is_open for r in records)
    unwritable = (ClusterState.PENDING, ClusterState.APPLYING)
    outside = [
        r for r in records if r.state in unwritable and not gate.allows(r.windows) and not spent
    ]
    if spent and pending_left and not in_flight:
        records = merged(records, writer.leave_unwritten(pending_left, ref["wave"]))
    counts = Counter(r.state.value for r in records)
    settled = in_flight == 0 and (not pending_left or spent)
    # Every poll of the window: DEBUG. The rollout's decisions are logged as they are recorded.
    log.debug(
        "advance %s",
        fields(
            rollout=ref["rolloutId"],
            wave=ref["wave"],
            written=written,
            in_flight=in_flight,
            pending=len(pending_left),
            held=held,
            budget_spent=spent or None,
            outside_windows=len(outside) or None,
        ),
    )
    result = AdvanceResult(
        counts=dict(counts),
        inFlight=in_flight,
        pending=len(pending_left),
        written=written,
        held=held,
        budgetSpent=spent,
        settled=settled,
        failures=failure_reasons(records),
        control=control_of(rollout),
    )
    if outside:
        result["outsideWindows"] = len(outside)
        result["nextOpening"] = next_opening(gate, outside)
    if spent or not pending_left:  # only verdicts are left: the wave's end is near
        wrote = bool(written or redone)
        look = next_look(spec, ref["wave"], records, writer.now(), wrote=wrote)
        if look is not None:
            result["nextLookIn"] = look
    return result


class _Writer:
    """Writes one rollout's revision to clusters and records what happened to each."""

    def __init__(self, rt: Runtime, spec: TrackSpec, revision: str) -> None:
        self.rt = rt
        self.spec = spec
        self.revision = revision
        self.name = spec.configuration.name
        self.configurations = ConfigurationWriter(rt, spec)

    def now(self) -> datetime:
        return self.rt.now()

    def skip_offline(self, chosen: list[ClusterRecord]) -> list[ClusterRecord]:
        """Under `offline: skip`, mark the offline ones Skipped (saved); those records."""
        if self.spec.offline is not OfflinePolicy.SKIP or not chosen:
            return []
        connectivity = self.rt.fleet.connectivity([r.cluster_id for r in chosen])
        now = self.now()
        skipped = [
            r.skipped_offline("offline: left for catch-up (offline: skip)", now)
            for r in chosen
            if (status := connectivity.get(r.cluster_id)) is not None and status.is_offline
        ]
        if skipped:
            self.rt.records.clusters.save_wave(skipped)
        return skipped

    def with_restore_points(self, chosen: list[ClusterRecord]) -> list[ClusterRecord]:
        """`chosen`, each first-time cluster with the configuration found on it recorded."""
        first = [r for r in chosen if r.restore_point is None and r.desired_revision is None]
        if not first:
            return chosen
        found = self.rt.fleet.read_configurations([r.cluster_id for r in first], self.name)
        now = self.now()
        points = {
            r.id: RestorePoint(
                captured_at=now,
                configuration=restorable(body) if (body := found[r.cluster_id]) else None,
            )
            for r in first
        }
        return [
            r.model_copy(update={"restore_point": points[r.id]}) if r.id in points else r
            for r in chosen
        ]

    def ahead(self, record: ClusterRecord) -> ClusterRecord:
        return record.applying(self.revision, self.now())

    def write(
        self,
        records: list[ClusterRecord],
        due: Mapping[str, datetime],
        before: list[ClusterRecord] | None = None,
    ) -> tuple[list[ClusterRecord], bool]:
        """Write `records` (recorded Applying first), none past its deadline (`due`, by cluster
        id); their new records, and whether a window closed on some of them. A write not sent
        for that goes back to its record `before` (Pending, restore point kept); one with
        no record before (a leftover), or one that may have landed, stays Applying. Raises
        `TransientError` when some writes could not be done yet, after saving the others."""
        if not records:
            return [], False
        self.rt.records.clusters.save_wave(records)
        earlier = {r.id: r for r in before or []}
        now = self.now()
        done: list[ClusterRecord] = []
        retry: list[WriteOutcome] = []
        closed = False
        for written in self.configurations.write(records, self.revision, due):
            record, outcome = written.record, written.outcome
            if outcome is not None and outcome.error == WINDOW_CLOSED:
                closed = True
                was = earlier.get(record.id)
                if was is not None and not outcome.maybe_written:
                    done.append(
                        was.moved(
                            ClusterState.PENDING,
                            Reason.OUTSIDE_MAINTENANCE_WINDOW,
                            outcome.message,
                            now,
                        )
                    )
                continue  # it stays Applying as recorded ahead: written in the next opening
            if outcome is None or (written.how == "delete" and outcome.ok):
                done.append(self._recreating(record, written.remember, now))
            elif outcome.ok:
                done.append(
                    record.pinned(
                        self.revision, now, patched=written.how == "patch", **written.remember
                    )
                )
            elif outcome.error in ("Transient", "Throttled"):
                retry.append(outcome)
            else:
                done.append(record.failed(Reason.APPLY_FAILED, outcome.message, now))
        if done:
            self.rt.records.clusters.save_wave(done)
        if retry:
            raise TransientError(
                f"{len(retry)} of {len(records)} writes did not go through yet: {retry[0].message}"
            )
        return done, closed

    def _recreating(
        self, record: ClusterRecord, remember: dict[str, object], now: datetime
    ) -> ClusterRecord:
        """A re-create under way: still Applying, unless its deadline passed."""
        configuration = self.spec.configuration
        if record.written_at is not None and now >= record.written_at + self.spec.progress_deadline:
            return record.failed(
                Reason.PROGRESS_DEADLINE_EXCEEDED,
                "re-create did not finish: the old configuration is still being deleted",
                now,
            )
        return record.moved(
            ClusterState.APPLYING,
            Reason.PROGRESSING,
            f"re-creating with scope {configuration.scope.value}, namespace "
            f"{configuration.namespace}: waiting for Azure to delete the old configuration",
            now,
            **remember,
        )

    def report_foreign(self, rollout_id: str, records: list[ClusterRecord]) -> None:
        """Say on the rollout's timeline which clusters had a configuration of that name
        arcwave did not create: this write takes it over (a rollback puts it back)."""
        for record in records:
            point = record.restore_point
            if point is None or point.configuration is None or record.desired_revision is not None:
                continue
            source = _source_of(point.configuration)
            key = f"foreign/{record.id}"
            message = (
                f"{record.name}: fluxConfiguration '{self.name}' was made outside arcwave "
                f"({source}); arcwave writes over it and a rollback puts it back"
            )
            if self.rt.records.timeline.append(
                rollout_id,
                key,
                actor="arcwave",
                reason=Reason.FOREIGN_CONFIGURATION,
                message=message,
                data={"clusterId": record.cluster_id},
            ):
                log.info(
                    "decision %s",
                    fields(
                        rollout=rollout_id,
                        track=self.spec.name,
                        step=key,
                        reason=Reason.FOREIGN_CONFIGURATION.value,
                        actor="arcwave",
                        message=message,
                    ),
                )

    def leave_unwritten(self, pending: list[ClusterRecord], wave: str) -> list[ClusterRecord]:
        """The wave failed before these were written: say so on each."""
        message = f"not written: wave '{wave}' spent its failure budget first"
        fresh = [r.unwritten(message) for r in pending if r.message != message]
        if fresh:
            self.rt.records.clusters.save_wave(fresh)
        return fresh


@bp.activity_trigger(input_name="ref", activity=ADVANCE)
def advance_wave(ref: WaveRef) -> AdvanceResult:
    return act(advance, ref, ADVANCE)


def _source_of(configuration: dict[str, object]) -> str:
    props = configuration.get("properties")
    if not isinstance(props, dict):
        return "unknown source"
    source = props.get("gitRepository") or props.get("ociRepository") or {}
    if not isinstance(source, dict):
        return "unknown source"
    ref = source.get("repositoryRef") or {}
    branch = ref.get("branch") if isinstance(ref, dict) else None
    return f"{source.get('url', 'unknown source')}" + (f", branch {branch}" if branch else "")
