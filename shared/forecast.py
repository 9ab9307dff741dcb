"""The ETA of a plan before it runs, and of a rollout while it runs (`shared.eta` simulates).

A plan's ETA counts from now with every cluster still to write. A running rollout's counts
from now with what is left: settled clusters take no time, clusters in flight settle at their
write + the expected reconcile time (now, if that has passed), waves done are done, a soaking
wave ends its soak at its last verdict + soak, and the waves after follow as in a plan. Asked
again later, it has moved on with the rollout.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from shared.cluster import Cluster
from shared.eta import ClusterInput, Phase, WaveInput, WriteBudget, simulate
from shared.eta_model import Eta, ReconcileEta
from shared.maintenance import applicable
from shared.plan import Plan
from shared.reconcile_time import expected_reconcile
from shared.settings import Settings
from shared.states import ClusterState, RolloutState, WaveState
from shared.store import ClusterRecord, RolloutRecord
from shared.trackspec import OfflinePolicy, TrackSpec
from shared.trackspec.windows import MaintenanceWindow

_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)/", re.IGNORECASE)
_DONE = {WaveState.SUCCEEDED, WaveState.SKIPPED}
_UNDONE = {WaveState.FAILED, WaveState.ROLLED_BACK}
"""A wave that failed or was rolled back: the rollout is closing, not moving on."""


DEFAULT_BUDGET = WriteBudget(
    burst=Settings.model_fields["arm_write_burst"].default,
    per_second=Settings.model_fields["arm_writes_per_second"].default,
)
"""The gateway's bucket when no settings are at hand (the offline `arcwave plan`)."""


def write_budget(settings: Settings) -> WriteBudget:
    """The gateway's own bucket per subscription (`ARCWAVE_ARM_WRITE_BURST`, `…_PER_SECOND`)."""
    return WriteBudget(burst=settings.arm_write_burst, per_second=settings.arm_writes_per_second)


def plan_eta(
    spec: TrackSpec,
    plan: Plan,
    fleet: Iterable[Cluster],
    budget: WriteBudget,
    learned: ReconcileEta | None,
    as_of: datetime,
) -> Eta:
    """The earliest schedule of `plan` if its rollout started at `as_of`."""
    by_id = {c.id: c for c in fleet}
    windows = spec.maintenance_windows
    waves = []
    for planned, wave in zip(plan.waves, spec.waves, strict=True):
        clusters = []
        for placement in planned.clusters:
            found = by_id.get(placement.id)
            tags = found.tags if found is not None else {}
            clusters.append(
                ClusterInput(
                    id=placement.id,
                    subscription=(found.subscription_id if found else None)
                    or subscription_of(placement.id),
                    site=placement.site,
                    windows=tuple(applicable(windows, wave.windows, tags)) if windows else (),
                    skip=placement.offline and spec.offline is OfflinePolicy.SKIP,
                    reconcile=_offline_hold(spec) if placement.offline else None,
                )
            )
        waves.append(
            WaveInput(
                name=wave.name,
                clusters=clusters,
                max_in_flight=planned.max_in_flight,
                max_per_site=planned.max_per_site,
                reconcile=expected_reconcile(spec, wave, learned),
                soak=wave.soak,
                approval=wave.approval,
            )
        )
    return simulate(waves, budget, as_of)


def rollout_eta(
    rollout: RolloutRecord,
    clusters: Sequence[ClusterRecord],
    budget: WriteBudget,
    learned: ReconcileEta | None,
    as_of: datetime,
) -> Eta | None:
    """The earliest schedule of what is left of `rollout` from `as_of`; None once it has
    ended, before it is planned, or while it is aborting or rolling back. `clusters` are its
    cluster records, each naming the windows that bind it; an operator's override of the
    windows lifts them all."""
    if rollout.state.is_terminal or rollout.spec is None or rollout.control.abort:
        return None
    if any(w.state in _UNDONE for w in rollout.waves):
        return None
    spec = rollout.planned_spec()
    overridden = rollout.control.windows_override is not None
    windows = {} if overridden else {w.name: w for w in spec.maintenance_windows}
    summaries = {w.name: w for w in rollout.plan}
    by_wave: dict[str, list[ClusterRecord]] = defaultdict(list)
    for record in clusters:
        if record.last_rollout_id == rollout.id and record.wave is not None:
            by_wave[record.wave].append(record)
    waves = []
    for status in rollout.waves:
        wave = spec.wave(status.name)
        summary = summaries.get(status.name)
        records = sorted(by_wave.get(status.name, []), key=lambda r: r.position or 0)
        inputs = [
            _running_cluster(spec, windows, r)
            for r in records
            if r.state is ClusterState.PENDING or r.state.is_open
        ]
        written = [r.written_at for r in records if r.written_at is not None]
        verdicts = [r.settled_at for r in records if r.settled_at is not None]
        phase = _phase(status.state)
        waves.append(
            WaveInput(
                name=wave.name,
                clusters=inputs,
                max_in_flight=summary.max_in_flight if summary else 1,
                max_per_site=summary.max_per_site if summary else None,
                reconcile=expected_reconcile(spec, wave, learned),
                soak=wave.soak,
                approval=wave.approval and wave.name not in rollout.control.approvals,
                phase=phase,
                started=min(written) if written and phase is Phase.RUNNING else None,
                soak_ends=max(verdicts, default=as_of) + wave.soak
                if phase is Phase.SOAKING
                else None,
            )
        )
    paused = rollout.control.paused or rollout.state is RolloutState.PAUSED
    return simulate(waves, budget, as_of, paused=paused)


def subscription_of(cluster_id: str) -> str:
    """The subscription in an ARM id, lower-cased ('' when the id has none)."""
    found = _SUBSCRIPTION.search(cluster_id)
    return found.group(1).lower() if found else ""


def _running_cluster(
    spec: TrackSpec, windows: Mapping[str, MaintenanceWindow], record: ClusterRecord
) -> ClusterInput:
    flying = record.state.is_open
    return ClusterInput(
        id=record.cluster_id,
        subscription=subscription_of(record.cluster_id),
        site=record.site,
        windows=tuple(windows[n] for n in sorted(record.windows) if n in windows),
        written_at=(record.written_at or record.updated_at) if flying else None,
        reconcile=_offline_hold(spec) if record.state is ClusterState.OFFLINE else None,
    )


def _offline_hold(spec: TrackSpec) -> timedelta:
    """How long an offline cluster holds its slot when written: until its progress deadline
    under `offline: wait`; under `fail` its first look fails it."""
    return spec.progress_deadline if spec.offline is OfflinePolicy.WAIT else timedelta(0)


def _phase(state: WaveState) -> Phase:
    if state in _DONE:
        return Phase.DONE
    if state is WaveState.WAITING_FOR_APPROVAL:
        return Phase.AWAITING_APPROVAL
    if state is WaveState.SOAKING:
        return Phase.SOAKING
    if state in (WaveState.APPLYING, WaveState.PROGRESSING):
        return Phase.RUNNING
    return Phase.PENDING
