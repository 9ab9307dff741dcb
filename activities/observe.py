"""observe_wave: read the health of a wave's clusters in flight and record each verdict.

A cluster is judged against what it was last asked to run, so the same step watches a rollout
(the new commit) and a rollback (each cluster's last good commit, the configuration arcwave
found there, or no configuration at all). Its progress deadline runs from its own write. Small
sets are read by direct GET (authoritative right after a write); larger ones in bulk through
Resource Graph. The verdict always comes from Azure, never from a Flux event.

After soak (`recheck`) the clusters that were Healthy are read again: one that is not healthy
any more counts as failed. While clusters are in flight, the result says when to look again
(`nextLookIn`, `shared.cadence`).
"""

import logging
from collections import Counter
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from activities.cadence import next_look
from shared.adapters.fleet import DIRECT_READ_LIMIT
from shared.cluster import Connectivity
from shared.contracts.activities import OBSERVE, ObserveRequest, ObserveResult, failure_reasons
from shared.desired import desired_configuration
from shared.drift import differences, modified_by
from shared.health import FluxStatus, Health, assess
from shared.logs import fields
from shared.reasons import Reason
from shared.runtime import Runtime, act, control_of
from shared.states import ClusterState, HealthState, RestoreKind
from shared.store import ClusterRecord
from shared.trackspec import OfflinePolicy, TrackSpec

log = logging.getLogger("arcwave.activities.observe")
bp = df.Blueprint()


def observe(rt: Runtime, req: ObserveRequest) -> ObserveResult:
    rollout = rt.records.rollouts.get(req["track"], req["rolloutId"])
    spec = rollout.planned_spec()
    records = rt.records.clusters.list(req["track"], rollout=req["rolloutId"], wave=req["wave"])
    if req["recheck"]:
        changed = recheck(rt, spec, records)
    else:
        watched = [r for r in records if r.state.is_open]
        changed = judge(rt, spec, watched, catch_up=rollout.is_catch_up)
    final = merged(records, changed)
    counts = Counter(r.state.value for r in final)
    settled = not any(r.state.is_open for r in final)
    # Every poll of the wave: DEBUG. The rollout's decisions are logged as they are recorded.
    log.debug(
        "observe %s",
        fields(
            rollout=req["rolloutId"],
            wave=req["wave"],
            counts=",".join(f"{s}:{n}" for s, n in sorted(counts.items())),
            settled=settled,
        ),
    )
    result = ObserveResult(
        counts=dict(counts),
        settled=settled,
        failures=failure_reasons(final),
        control=control_of(rollout),
    )
    if not settled and not req["recheck"]:
        look = next_look(spec, req["wave"], final, rt.now(), wrote=False)
        if look is not None:
            result["nextLookIn"] = look
    return result


def judge(
    rt: Runtime, spec: TrackSpec, watched: list[ClusterRecord], *, catch_up: bool
) -> list[ClusterRecord]:
    """Read the clusters in flight, record every changed verdict; the records that changed.
    A catch-up's healthy clusters are `CaughtUp`."""
    if not watched:
        return []
    health = read(rt, spec, watched)
    now = rt.now()
    deadline = spec.progress_deadline
    changed = []
    for record in watched:
        passed = record.written_at is not None and now >= record.written_at + deadline
        judged = verdict(record, health[record.cluster_id], spec.offline, passed, now)
        if judged is not None and catch_up and judged.state is ClusterState.HEALTHY:
            judged = judged.moved(judged.state, Reason.CAUGHT_UP, judged.message, now)
        if judged is not None:
            changed.append(judged)
    if changed:
        rt.records.clusters.save_wave(changed)
    return changed


def recheck(rt: Runtime, spec: TrackSpec, records: list[ClusterRecord]) -> list[ClusterRecord]:
    """After soak: a cluster Healthy before it must still be, or it counts as failed."""
    healthy = [r for r in records if r.state is ClusterState.HEALTHY]
    health = read(rt, spec, healthy)
    now = rt.now()
    changed = [
        record.failed(
            Reason.REGRESSED_DURING_SOAK,
            f"not healthy after soak: {health[record.cluster_id].message}",
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
    record: ClusterRecord,
    health: Health,
    offline: OfflinePolicy,
    deadline_passed: bool,
    now: datetime,
) -> ClusterRecord | None:
    """`record` as `health` leaves it, or None when nothing changed."""
    if record.state is ClusterState.ROLLING_BACK:
        if health.state is HealthState.HEALTHY:
            return record.rolled_back(health.message, now)
        if health.state is HealthState.FAILED or deadline_passed:
            return record.rollback_failed(f"restore did not reach health: {health.message}", now)
        return progress(record, health, now)
    if health.state is HealthState.HEALTHY:
        return record.healthy(health.reason, health.message, now)
    if health.state is HealthState.FAILED:
        return record.failed(health.reason, health.message, now)
    if health.state is HealthState.OFFLINE:
        if offline is OfflinePolicy.SKIP:
            return record.skipped_offline("went offline after the write: left for catch-up", now)
        if offline is OfflinePolicy.FAIL:
            return record.failed(Reason.CLUSTER_OFFLINE, health.message, now)
        if deadline_passed:
            return record.failed(
                Reason.PROGRESS_DEADLINE_EXCEEDED, f"still offline: {health.message}", now
            )
        if (record.state, record.reason, record.message) == (
            ClusterState.OFFLINE,
            health.reason,
            health.message,
        ):
            return None
        return record.offline(health.reason, health.message, now)
    if deadline_passed:
        return record.failed(
            Reason.PROGRESS_DEADLINE_EXCEEDED, f"not healthy by the deadline: {health.message}", now
        )
    return progress(record, health, now)


def progress(record: ClusterRecord, health: Health, now: datetime) -> ClusterRecord | None:
    """`record` still on its way, or None when Flux said nothing new."""
    moved = record.progressing(health.reason, health.message, now)
    if (moved.state, moved.reason, moved.message) == (record.state, record.reason, record.message):
        return None
    return moved


@bp.activity_trigger(input_name="request", activity=OBSERVE)
def observe_wave(request: ObserveRequest) -> ObserveResult:
    return act(observe, request, OBSERVE)
