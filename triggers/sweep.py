"""The drift and enrolment sweep: a timer (every 10 minutes) for what no event reported.

For every track with a last good revision: clusters of its fleet arcwave has never written
(joined without an event) or that are not at the last good revision (missed a rollout) are
caught up; every cluster arcwave believes settled has its configuration read (in bulk, through
Resource Graph) and compared with what arcwave wrote: a difference is drift (a hand edit, an
Azure Policy remediation), reported, and reverted under `drift: revert`.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.runtime import runtime
from shared.states import ClusterState
from shared.trackspec import TrackSpec
from triggers.fleetwatch import catch_up_on, check_drift_on, looks_drifted, spec_written, stamp

log = logging.getLogger("arcwave.triggers.sweep")
bp = df.Blueprint()

SCHEDULE = "0 */10 * * * *"


@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def drift_sweep(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    rt = runtime()
    cause = f"sweep:{stamp()}"
    caught = drifted = 0
    for track in await asyncio.to_thread(rt.records.tracks.list):
        target = track.last_good_revision
        if target is None:
            continue
        spec = track.track_spec()
        fleet = await asyncio.to_thread(rt.fleet.discover, spec.fleet)
        records = {
            r.cluster_id.lower(): r
            for r in await asyncio.to_thread(rt.records.clusters.list, track.id)
        }
        settled = [
            r
            for r in records.values()
            if r.state is ClusterState.HEALTHY and r.desired_revision is not None
        ]
        found = await asyncio.to_thread(
            rt.fleet.read_configurations,
            [r.cluster_id for r in settled],
            spec.configuration.name,
        )
        specs: dict[str | None, TrackSpec] = {}
        for record in settled:
            if record.last_rollout_id not in specs:
                specs[record.last_rollout_id] = await spec_written(rt, track, record)
            spec_of_record = specs[record.last_rollout_id]
            if looks_drifted(spec_of_record, record, found[record.cluster_id]):
                # Resource Graph lags ARM: what looks drifted is read again, directly.
                drifted += await check_drift_on(client, rt, track, record, cause)
        for cluster in fleet:
            known = records.get(cluster.id.lower())
            if known is None or known.state is ClusterState.SKIPPED:
                handed = await catch_up_on(client, rt, track, cluster, known, cause, "sweep")
                caught += handed is not None
    # Every sweep: INFO only when it acted (each drifted cluster is a WARNING too).
    log.log(
        logging.INFO if caught or drifted else logging.DEBUG,
        "sweep: %d catch-ups, %d drifted clusters%s",
        caught,
        drifted,
        " (late)" if timer.past_due else "",
    )
