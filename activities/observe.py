"""observe_wave: read the health of a wave's clusters in flight and record each verdict.

A cluster is judged against what it was last asked to run, so the same step watches a rollout
(the new commit) and a rollback (each cluster's last good commit, the configuration arcwave
found there, or no configuration at all). Its progress deadline runs from its own write. Small
sets are read by direct GET (authoritative right after a write); larger ones in bulk through
Resource Graph. The verdict always comes from Azure, never from a Flux event.

After soak (`recheck`) the clusters that were Healthy are read again: one that is not healthy
any more counts as failed.
"""

import logging
from collections import Counter
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from activities.contracts import OBSERVE, ObserveRequest, ObserveResult, failure_reasons
from activities.runtime import Runtime, control_of, failing_fast, runtime
from shared.adapters.fleet import DIRECT_READ_LIMIT
from shared.cluster import Connectivity
from shared.desired import desired_configuration
from shared.drift import differences, modified_by
from shared.health import FluxStatus, Health, assess
from shared.reasons import Reason
from shared.states import ClusterState, HealthState, RestoreKind
from shared.store import ClusterRecord
from shared.trackspec import OfflinePolicy, TrackSpec

log = logging.getLogger("arcwave.activities.observe")
bp = df.Blueprint()

Change = dict[str, Any]


def observe(rt: Runtime, req: ObserveRequest) -> ObserveResult:
    rollout = rt.records.rollouts.get(req["track"], req["rolloutId"])
    spec = rollout.planned_spec()
    records = rt.records.clusters.list(req["track"], rollout=req["rolloutId"], wave=req["wave"])
    if req["recheck"]:
        changed = recheck(rt, spec, records)
    else:
        changed = judge(rt, spec, [r for r in records if r.state.is_open])
    final = merged(records, changed)
    counts = Counter(r.state.value for r in final)
    settled = not any(r.state.is_open for r in final)
    log.info(
        "rollout %s wave %s: %s%s",
        req["rolloutId"],
        req["wave"],
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
        " (settled)" if settled else "",
    )
    return ObserveResult(
        counts=dict(counts),
        settled=settled,
        failures=failure_reasons(final),
        control=control_of(rollout),
    )


def judge(rt: Runtime, spec: TrackSpec, watched: list[ClusterRecord]) -> list[ClusterRecord]:
    """Read the clusters in flight, record every changed verdict; the records that changed."""
    if not watched:
        return []
    health = read(rt, spec, watched)
    now = rt.now()
    deadline = spec.progress_deadline
    changed = []
    for record in watched:
        passed = record.written_at is not None and now >= record.written_at + deadline
        update = verdict(record, health[record.cluster_id], spec.offline, passed)
        if update:
            changed.append(settling(record, update, now))
    if changed:
        rt.records.clusters.save_wave(changed)
    return changed


def recheck(rt: Runtime, spec: TrackSpec, records: list[ClusterRecord]) -> list[ClusterRecord]:
    """After soak: a cluster Healthy before it must still be, or it counts as failed."""
    healthy = [r for r in records if r.state is ClusterState.HEALTHY]
    health = read(rt, spec, healthy)
    now = rt.now()
    changed = [
        settling(
            record,
            failed(
                Reason.REGRESSED_DURING_SOAK,
                f"not healthy after soak: {health[record.cluster_id].message}",
            ),
            now,
        )
        for record in healthy
        if health[record.cluster_id].state is not HealthState.HEALTHY
    ]
    if changed:
        rt.records.clusters.save_wave(changed)
    return changed


def merged(records: list[ClusterRecord], changed: list[ClusterRecord]) -> list[ClusterRecord]:
    """`records` with the changed ones in their place."""
    by_id = {r.id: r for r in records} | {r.id: r for r in changed}
    return list(by_id.values())


def settling(record: ClusterRecord, update: Change, now: datetime) -> ClusterRecord:
    """`record` changed by `update`, stamped `settled_at` when it leaves flight."""
    state = update.get("state", record.state)
    if record.state.is_open and not state.is_open:
        update = {**update, "settled_at": now}
    return record.model_copy(update=update)


def read(rt: Runtime, spec: TrackSpec, records: list[ClusterRecord]) -> dict[str, Health]:
    """Each cluster's health against what it was last asked to run.

    A few clusters are read by direct GET, which is authoritative right after a write; then a
    configuration whose settings are not what arcwave wrote (an Azure Policy, a hand edit)
    fails its cluster as `Drifted` instead of looking like a slow reconcile. Many clusters are
    read through Resource Graph, which lags ARM, so there only health counts (the sweep looks
    for drift later)."""
    name = spec.configuration.name
    ids = [r.cluster_id for r in records]
    bodies = rt.fleet.read_configurations(ids, name)
    connectivity = rt.fleet.connectivity(ids)
    direct = len(ids) <= DIRECT_READ_LIMIT
    health: dict[str, Health] = {}
    for record in records:
        body = bodies[record.cluster_id]
        if record.restoring is not None and record.restoring is not RestoreKind.REVISION:
            health[record.cluster_id] = restored_health(record, body)
        elif record.desired_revision is None:
            removal = record.model_copy(update={"restoring": RestoreKind.REMOVAL})
            health[record.cluster_id] = restored_health(removal, body)
        else:
            health[record.cluster_id] = _revision_health(
                spec, record, body, connectivity[record.cluster_id], check_drift=direct
            )
    return health


def _revision_health(
    spec: TrackSpec,
    record: ClusterRecord,
    body: dict[str, Any] | None,
    connectivity: Connectivity | None,
    *,
    check_drift: bool,
) -> Health:
    assert record.desired_revision is not None
    status = FluxStatus.model_validate(body.get("properties") or {}) if body else None
    if body is not None and check_drift:
        desired = desired_configuration(spec, record.desired_revision)
        changed = differences(desired, body)
        if changed:
            return Health(
                state=HealthState.FAILED,
                reason=Reason.DRIFTED,
                message="changed outside arcwave while it rolled out: "
                + "; ".join(changed)
                + modified_by(body),
            )
    return assess(record.desired_revision, status, connectivity, since=record.written_at)


def restored_health(record: ClusterRecord, body: dict[str, Any] | None) -> Health:
    """How far a restore of the original configuration, or a removal, has come."""
    if record.restoring is not RestoreKind.ORIGINAL:
        if body is None:
            return Health(
                state=HealthState.HEALTHY,
                reason=Reason.ROLLED_BACK,
                message="configuration removed (arcwave created it)",
            )
        return Health(state=HealthState.PROGRESSING, reason=Reason.ROLLING_BACK, message="removing")
    provisioning = ((body or {}).get("properties") or {}).get("provisioningState")
    if body is None:
        return Health(
            state=HealthState.PROGRESSING,
            reason=Reason.ROLLING_BACK,
            message="original configuration not there yet",
        )
    if provisioning == "Succeeded":
        return Health(
            state=HealthState.HEALTHY,
            reason=Reason.ROLLED_BACK,
            message="original configuration put back",
        )
    if provisioning == "Failed":
        return Health(
            state=HealthState.FAILED,
            reason=Reason.ROLLBACK_FAILED,
            message="Azure could not provision the original configuration again",
        )
    return Health(
        state=HealthState.PROGRESSING,
        reason=Reason.ROLLING_BACK,
        message=f"putting the original configuration back ({provisioning or 'pending'})",
    )


def verdict(
    record: ClusterRecord, health: Health, offline: OfflinePolicy, deadline_passed: bool
) -> Change | None:
    """The change to `record` that `health` calls for, or None."""
    if record.state is ClusterState.ROLLING_BACK:
        if health.state is HealthState.HEALTHY:
            return {
                "state": ClusterState.ROLLED_BACK,
                "reason": Reason.ROLLED_BACK,
                "message": health.message,
                "applied_revision": record.desired_revision,
            }
        if health.state is HealthState.FAILED or deadline_passed:
            return {
                "state": ClusterState.ROLLBACK_FAILED,
                "reason": Reason.ROLLBACK_FAILED,
                "message": f"restore did not reach health: {health.message}",
            }
        return progress(record, health)
    if health.state is HealthState.HEALTHY:
        return {
            "state": ClusterState.HEALTHY,
            "reason": health.reason,
            "message": health.message,
            "applied_revision": record.desired_revision,
        }
    if health.state is HealthState.FAILED:
        return failed(health.reason, health.message)
    if health.state is HealthState.OFFLINE:
        if offline is OfflinePolicy.SKIP:
            return {
                "state": ClusterState.SKIPPED,
                "reason": Reason.SKIPPED_OFFLINE,
                "message": "went offline after the write: left for catch-up",
            }
        if offline is OfflinePolicy.FAIL:
            return failed(Reason.CLUSTER_OFFLINE, health.message)
        if deadline_passed:
            return failed(Reason.PROGRESS_DEADLINE_EXCEEDED, f"still offline: {health.message}")
        return {"state": ClusterState.OFFLINE, "reason": health.reason, "message": health.message}
    if deadline_passed:
        return failed(
            Reason.PROGRESS_DEADLINE_EXCEEDED, f"not healthy by the deadline: {health.message}"
        )
    return progress(record, health)


def progress(record: ClusterRecord, health: Health) -> Change | None:
    if record.state is ClusterState.ROLLING_BACK:
        state, reason = ClusterState.ROLLING_BACK, Reason.ROLLING_BACK
    else:
        state, reason = ClusterState.PROGRESSING, health.reason
    if (record.state, record.reason, record.message) == (state, reason, health.message):
        return None
    return {"state": state, "reason": reason, "message": health.message}


def failed(reason: Reason, message: str) -> Change:
    return {"state": ClusterState.FAILED, "reason": reason, "message": message}


@bp.activity_trigger(input_name="request", activity=OBSERVE)
def observe_wave(request: ObserveRequest) -> ObserveResult:
    with failing_fast():
        return observe(runtime(), request)
