"""restore_wave: put back what a rollout changed in one wave.

Every cluster of the wave that this rollout wrote goes back to its last good revision (the
track's, for a cluster that never had one of its own); a cluster with no good revision
anywhere has the configuration removed. The restore is then watched like a rollout
(observe_wave), each cluster against its own target, so a restore that fails is reported
per cluster.
"""

import logging

import azure.durable_functions as df

from activities.contracts import RESTORE, RestoreRequest, RestoreResult
from activities.runtime import Runtime, runtime
from shared.desired import desired_configuration
from shared.reasons import Reason
from shared.states import ClusterState
from shared.store import ClusterRecord
from shared.store.records import utc_now

log = logging.getLogger("arcwave.activities.restore")
bp = df.Blueprint()


def restore(rt: Runtime, req: RestoreRequest) -> RestoreResult:
    track = rt.records.tracks.get(req["track"])
    spec = track.track_spec()
    name = spec.configuration.name
    changed = [
        r
        for r in rt.records.clusters.list(req["track"], rollout=req["rolloutId"], wave=req["wave"])
        if r.desired_revision == req["revision"]
    ]
    now = utc_now()
    by_target: dict[str | None, list[ClusterRecord]] = {}
    for record in changed:
        target = record.last_good_revision or track.last_good_revision
        by_target.setdefault(target, []).append(record)
    updated: list[ClusterRecord] = []
    restored = removed = failed = 0
    for target, records in by_target.items():
        ids = [r.cluster_id for r in records]
        if target is None:
            outcomes = [rt.fleet.remove(c, name) for c in ids]
        else:
            outcomes = rt.fleet.apply_many(ids, name, desired_configuration(spec, target))
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome.ok:
                restored += target is not None
                removed += target is None
                change = {
                    "state": ClusterState.ROLLING_BACK,
                    "reason": Reason.ROLLING_BACK,
                    "message": f"restoring {target[:7]}" if target else "removing configuration",
                    "desired_revision": target,
                }
            else:
                failed += 1
                change = {
                    "state": ClusterState.ROLLBACK_FAILED,
                    "reason": Reason.ROLLBACK_FAILED,
                    "message": outcome.message,
                }
            updated.append(record.model_copy(update={**change, "updated_at": now}))
    rt.records.clusters.save_wave(updated)
    log.info(
        "rollout %s wave %s: restoring %d, removing %d, %d could not be written",
        req["rolloutId"],
        req["wave"],
        restored,
        removed,
        failed,
    )
    return RestoreResult(restored=restored, removed=removed, failed=failed)


@bp.activity_trigger(input_name="request", activity=RESTORE)
def restore_wave(request: RestoreRequest) -> RestoreResult:
    return restore(runtime(), request)
