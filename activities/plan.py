"""plan_rollout: discover the track's fleet, place every cluster, store the plan.

The plan lives in the cluster records (wave, place in the write order and site of each cluster
for this rollout) and in the rollout record, which keeps the track spec as planned: every
later step of the rollout reads that snapshot, so editing the track changes the next rollout,
never this one. The orchestrator gets counts per wave. Running it twice gives the same plan.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

import azure.durable_functions as df

from activities.windows import warn_of_closed_windows
from shared.contracts.activities import PLAN, PlanRequest, PlanResult, WaveBrief
from shared.logs import fields
from shared.maintenance import bound_windows
from shared.planner import plan_rollout
from shared.quantities import CountOrPercent
from shared.reasons import Reason
from shared.runtime import Runtime, act
from shared.states import ClusterState
from shared.store import ClusterRecord, RolloutRecord, cluster_key
from shared.telemetry import carried
from shared.trackspec import TrackSpec, Wave

log = logging.getLogger("arcwave.activities.plan")
bp = df.Blueprint()


CATCH_UP_WAVE = "catch-up"
CARRIED = {
    "desired_revision",
    "applied_revision",
    "last_good_revision",
    "restore_point",
    "written_shape",
    "written_scope",
    "written_namespace",
    "recreating",
    "drift_reverted",
    "reconciled_in",
    "reconciled_at",
}
"""What a cluster's record keeps from one rollout to the next: what is on the cluster and
what arcwave knows of it (also how long its last reconcile took, for the ETA). State, wave
and times are the new rollout's."""


def plan(rt: Runtime, ref: PlanRequest) -> PlanResult:
    track = rt.records.tracks.get(ref["track"])
    spec = track.track_spec()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # What each cluster's record carries over is read while Resource Graph answers: at
        # 10,000 clusters each takes a good part of a second, and this is on the way from a
        # push to its first write.
        earlier = pool.submit(carried(rt.records.clusters.carried), spec.name, CARRIED)
        fleet = rt.fleet.discover(spec.fleet)
        known = earlier.result()
    bound = bound_windows(spec, fleet)
    catch_up = ref.get("clusters")
    if rt.records.rollouts.get(spec.name, ref["rolloutId"]).fast:
        spec = fast_spec(spec)
    if catch_up:
        spec = catch_up_spec(spec)
        wanted = {c.lower() for c in catch_up}
        fleet = [c for c in fleet if c.id.lower() in wanted]
    planned = plan_rollout(spec, fleet)
    now = rt.now()
    warn_of_closed_windows(rt, ref["rolloutId"], spec, planned, bound, now)
    records = []
    for wave in planned.waves:
        for position, placement in enumerate(wave.clusters):
            records.append(
                ClusterRecord(
                    **known.get(cluster_key(placement.id), {}),
                    cluster_id=placement.id,
                    name=placement.name,
                    track=spec.name,
                    wave=wave.name,
                    position=position,
                    site=placement.site,
                    state=ClusterState.PENDING,
                    reason=Reason.PLANNED,
                    message=f"wave '{wave.name}', #{position + 1} in write order: "
                    f"{placement.reason}",
                    last_rollout_id=ref["rolloutId"],
                    windows=bound.get(placement.id, []),
                    updated_at=now,
                )
            )
    rt.records.clusters.save_wave(records)

    def with_plan(rollout: RolloutRecord) -> RolloutRecord:
        return rollout.with_plan(planned, spec, track.spec_version).model_copy(
            update={"previous_revision": track.last_good_revision}
        )

    rt.records.rollouts.update(spec.name, ref["rolloutId"], with_plan)
    waves = [
        WaveBrief(
            name=w.name,
            clusters=len(w.clusters),
            maxInFlight=w.max_in_flight,
            maxPerSite=w.max_per_site,
            offline=sum(1 for c in w.clusters if c.offline),
            maxFailures=policy.max_failures.to_wire(),
            soakSeconds=policy.soak.total_seconds(),
            approval=policy.approval,
            approvalTimeoutSeconds=(
                policy.approval_timeout.total_seconds() if policy.approval_timeout else None
            ),
            metricGates=list(policy.metric_gates),
        )
        for w, policy in zip(planned.waves, spec.waves, strict=True)
    ]
    # The plan's summary is the `Planned` decision the rollout records next; the waves: DEBUG.
    log.debug(
        "plan %s",
        fields(
            rollout=ref["rolloutId"],
            track=spec.name,
            waves=",".join(f"{w['name']}:{w['clusters']}" for w in waves),
            excluded=len(planned.excluded),
            unassigned=len(planned.unassigned),
        ),
    )
    return PlanResult(
        waves=waves,
        excluded=len(planned.excluded),
        unassigned=len(planned.unassigned),
        previousRevision=track.last_good_revision,
        onFailure="halt" if catch_up else spec.on_failure.value,
    )


def catch_up_spec(spec: TrackSpec) -> TrackSpec:
    """The track with one wave that takes every cluster given: a catch-up's plan."""
    wave = Wave(name=CATCH_UP_WAVE, max_failures=CountOrPercent(count=0))
    return spec.model_copy(update={"waves": [wave]})


FAST_WAVE = "fast"


def fast_spec(spec: TrackSpec) -> TrackSpec:
    """The track with one wave that takes the whole fleet at once with its gates off (no
    approval, no soak, every failure tolerated): a fast rollback's plan. Health is still read,
    so each cluster's state says where it ended."""
    wave = Wave(
        name=FAST_WAVE,
        max_concurrency=CountOrPercent(percent=100),
        max_failures=CountOrPercent(percent=100),
    )
    return spec.model_copy(update={"waves": [wave]})


@bp.activity_trigger(input_name="ref", activity=PLAN)
def plan_rollout_activity(ref: PlanRequest) -> PlanResult:
    return act(plan, ref, PLAN)
