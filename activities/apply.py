"""apply_batch: write the track's configuration, pinned to the rollout's commit, to one batch.

Offline clusters are left alone under `offline: skip` (recorded Skipped, for catch-up); under
`fail` and `wait` they are written like the rest (ARM accepts it; Flux acts on reconnect).
Writing twice is harmless: the body is the whole desired state.
"""

import logging

import azure.durable_functions as df

from activities.contracts import APPLY, ApplyResult, BatchRef, held_reason
from activities.runtime import Runtime, control_of, runtime
from shared.desired import desired_configuration
from shared.reasons import Reason
from shared.states import ClusterState
from shared.store import ClusterRecord
from shared.store.records import utc_now
from shared.trackspec import OfflinePolicy

log = logging.getLogger("arcwave.activities.apply")
bp = df.Blueprint()


def apply(rt: Runtime, ref: BatchRef) -> ApplyResult:
    rollout = rt.records.rollouts.get(ref["track"], ref["rolloutId"])
    held = held_reason(control_of(rollout))
    if held is not None:
        log.info("rollout %s wave %s: not applying, %s", ref["rolloutId"], ref["wave"], held)
        return ApplyResult(applied=0, failed=0, skipped=0, held=held)
    spec = rt.records.tracks.get(ref["track"]).track_spec()
    records = rt.records.clusters.list(
        ref["track"], rollout=ref["rolloutId"], wave=ref["wave"], batch=ref["batch"]
    )
    revision = ref["revision"]
    now = utc_now()
    skipped: list[ClusterRecord] = []
    if spec.offline is OfflinePolicy.SKIP and records:
        connectivity = rt.fleet.connectivity([r.cluster_id for r in records])
        offline = {cid for cid, status in connectivity.items() if status and status.is_offline}
        skipped = [r for r in records if r.cluster_id in offline]
    to_write = [r for r in records if r not in skipped]
    outcomes = rt.fleet.apply_many(
        [r.cluster_id for r in to_write],
        spec.configuration.name,
        desired_configuration(spec, revision),
    )
    updated = [
        r.model_copy(
            update={
                "state": ClusterState.SKIPPED,
                "reason": Reason.SKIPPED_OFFLINE,
                "message": "offline: left for catch-up (offline: skip)",
                "updated_at": now,
            }
        )
        for r in skipped
    ]
    for record, outcome in zip(to_write, outcomes, strict=True):
        if outcome.ok:
            change = {
                "state": ClusterState.PROGRESSING,
                "reason": Reason.REVISION_APPLIED,
                "message": f"pinned to {revision[:7]}",
                "desired_revision": revision,
            }
        else:
            change = {
                "state": ClusterState.FAILED,
                "reason": Reason.APPLY_FAILED,
                "message": outcome.message,
            }
        updated.append(record.model_copy(update={**change, "updated_at": now}))
    rt.records.clusters.save_wave(updated)
    result = ApplyResult(
        applied=sum(1 for o in outcomes if o.ok),
        failed=sum(1 for o in outcomes if not o.ok),
        skipped=len(skipped),
        held=None,
    )
    log.info(
        "rollout %s wave %s batch %d: applied %d, failed %d, skipped %d offline",
        ref["rolloutId"],
        ref["wave"],
        ref["batch"] + 1,
        result["applied"],
        result["failed"],
        result["skipped"],
    )
    return result


@bp.activity_trigger(input_name="ref", activity=APPLY)
def apply_batch(ref: BatchRef) -> ApplyResult:
    return apply(runtime(), ref)
