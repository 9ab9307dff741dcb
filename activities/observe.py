"""observe_wave: read the health of a wave's open clusters and record each verdict.

A cluster is judged against its own desired revision, so the same step watches a rollout
(the new commit) and a rollback (each cluster's last good commit, or no configuration at all).
Small sets are read by direct GET (authoritative right after a write); larger ones in bulk
through Resource Graph. The verdict always comes from Azure, never from a Flux event.
"""

import logging
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import azure.durable_functions as df

from activities.contracts import OBSERVE, ObserveRequest, ObserveResult
from activities.runtime import Runtime, control_of, runtime
from shared.health import Health
from shared.reasons import Reason
from shared.states import ClusterState, HealthState
from shared.store import ClusterRecord
from shared.store.records import utc_now
from shared.trackspec import OfflinePolicy, TrackSpec

log = logging.getLogger("arcwave.activities.observe")
bp = df.Blueprint()

DIRECT_READ_LIMIT = 20
"""Up to this many clusters are read one by one (fresh); more go through Resource Graph."""

REMOVED = Health(state=HealthState.HEALTHY, reason=Reason.ROLLED_BACK, message="removed")


def observe(rt: Runtime, req: ObserveRequest) -> ObserveResult:
    spec = rt.records.tracks.get(req["track"]).track_spec()
    records = rt.records.clusters.list(req["track"], rollout=req["rolloutId"], wave=req["wave"])
    if req["recheck"]:
        watched = [r for r in records if r.state is ClusterState.HEALTHY]
    else:
        watched = [r for r in records if r.state.is_open]
    health = _read(rt, spec, watched)
    now = utc_now()
    changed: list[ClusterRecord] = []
    for record in watched:
        update = _verdict(record, health[record.cluster_id], spec, req)
        if update:
            changed.append(record.model_copy(update={**update, "updated_at": now}))
    if changed:
        rt.records.clusters.save_wave(changed)
    final = {r.id: r for r in records} | {r.id: r for r in changed}
    counts = Counter(r.state.value for r in final.values())
    settled = not any(r.state.is_open for r in final.values())
    log.info(
        "rollout %s wave %s: %s%s",
        req["rolloutId"],
        req["wave"],
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
        " (settled)" if settled else "",
    )
    rollout = rt.records.rollouts.get(req["track"], req["rolloutId"])
    return ObserveResult(counts=dict(counts), settled=settled, control=control_of(rollout))


def _read(rt: Runtime, spec: TrackSpec, records: list[ClusterRecord]) -> dict[str, Health]:
    name = spec.configuration.name
    by_revision: dict[str | None, list[str]] = defaultdict(list)
    for record in records:
        by_revision[record.desired_revision].append(record.cluster_id)
    health: dict[str, Health] = {}
    for revision, ids in by_revision.items():
        if revision is None:
            health |= _removals(rt, name, ids)
        elif len(ids) <= DIRECT_READ_LIMIT:
            connectivity = rt.fleet.connectivity(ids)
            with ThreadPoolExecutor(max_workers=min(8, len(ids))) as pool:
                futures = {
                    c: pool.submit(rt.fleet.read_health, c, name, revision, connectivity[c])
                    for c in ids
                }
                health |= {c: future.result() for c, future in futures.items()}
        else:
            health |= rt.fleet.observe(revision, name, ids)
    return health


def _removals(rt: Runtime, name: str, ids: list[str]) -> dict[str, Health]:
    health = {}
    for cluster_id in ids:
        if rt.fleet.read_configuration(cluster_id, name) is None:
            health[cluster_id] = REMOVED
        else:
            health[cluster_id] = Health(
                state=HealthState.PROGRESSING, reason=Reason.ROLLING_BACK, message="removing"
            )
    return health


def _verdict(
    record: ClusterRecord, health: Health, spec: TrackSpec, req: ObserveRequest
) -> dict[str, Any] | None:
    deadline = req["deadlinePassed"]
    if req["recheck"]:
        if health.state is HealthState.HEALTHY:
            return None
        return _failed(Reason.REGRESSED_DURING_SOAK, f"not healthy after soak: {health.message}")
    if record.state is ClusterState.ROLLING_BACK:
        if health.state is HealthState.HEALTHY:
            return {
                "state": ClusterState.ROLLED_BACK,
                "reason": Reason.ROLLED_BACK,
                "message": health.message,
                "applied_revision": record.desired_revision,
            }
        if health.state is HealthState.FAILED or deadline:
            return {
                "state": ClusterState.ROLLBACK_FAILED,
                "reason": Reason.ROLLBACK_FAILED,
                "message": f"restore did not reach health: {health.message}",
            }
        return _progress(record, health)
    if health.state is HealthState.HEALTHY:
        return {
            "state": ClusterState.HEALTHY,
            "reason": health.reason,
            "message": health.message,
            "applied_revision": record.desired_revision,
        }
    if health.state is HealthState.FAILED:
        return _failed(health.reason, health.message)
    if health.state is HealthState.OFFLINE:
        if spec.offline is OfflinePolicy.SKIP:
            return {
                "state": ClusterState.SKIPPED,
                "reason": Reason.SKIPPED_OFFLINE,
                "message": "went offline after the write: left for catch-up",
            }
        if spec.offline is OfflinePolicy.FAIL:
            return _failed(Reason.CLUSTER_OFFLINE, health.message)
        if deadline:
            return _failed(Reason.PROGRESS_DEADLINE_EXCEEDED, f"still offline: {health.message}")
        return {"state": ClusterState.OFFLINE, "reason": health.reason, "message": health.message}
    if deadline:
        return _failed(
            Reason.PROGRESS_DEADLINE_EXCEEDED, f"not healthy by the deadline: {health.message}"
        )
    return _progress(record, health)


def _progress(record: ClusterRecord, health: Health) -> dict[str, Any] | None:
    if record.state is ClusterState.ROLLING_BACK:
        state, reason = ClusterState.ROLLING_BACK, Reason.ROLLING_BACK
    else:
        state, reason = ClusterState.PROGRESSING, health.reason
    if (record.state, record.reason, record.message) == (state, reason, health.message):
        return None
    return {"state": state, "reason": reason, "message": health.message}


def _failed(reason: Reason, message: str) -> dict[str, Any]:
    return {"state": ClusterState.FAILED, "reason": reason, "message": message}


@bp.activity_trigger(input_name="request", activity=OBSERVE)
def observe_wave(request: ObserveRequest) -> ObserveResult:
    return observe(runtime(), request)
