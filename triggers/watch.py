"""Reconnected clusters: a timer (every minute) that catches up clusters that come back.

Azure raises no event when an Arc cluster reconnects (the HealthResources topic covers virtual
machines and scale sets only), so arcwave asks Resource Graph, each minute, for the
connectivity of the clusters it is waiting for: those a rollout skipped offline, or failed
because they were offline, expired or without agents. One that is connected again is caught
up to its track's last good revision, so it is back within about two minutes of reconnecting.
Newly enrolled clusters come through Event Grid's `ResourceWriteSuccess` or the 10-minute sweep.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.reasons import Reason
from shared.runtime import Runtime, runtime
from shared.states import ClusterState
from shared.store import ClusterRecord, TrackRecord
from triggers.fleetwatch import catch_up_on

log = logging.getLogger("arcwave.triggers.watch")
bp = df.Blueprint()

SCHEDULE = "0 * * * * *"
AWAY = {Reason.CLUSTER_OFFLINE, Reason.CLUSTER_EXPIRED, Reason.AGENT_NOT_INSTALLED}
"""Why a failed cluster may just have been away."""


@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def watch_connectivity(
    timer: func.TimerRequest, client: df.DurableOrchestrationClient
) -> None:
    caught = await catch_up_reconnected(client, runtime())
    if caught:
        log.info("reconnected clusters caught up: %s", ", ".join(caught))


def waiting(records: list[ClusterRecord]) -> list[ClusterRecord]:
    """The clusters a rollout left behind because they were away."""
    return [
        r
        for r in records
        if r.state is ClusterState.SKIPPED or (r.state is ClusterState.FAILED and r.reason in AWAY)
    ]


async def catch_up_reconnected(client: df.DurableOrchestrationClient, rt: Runtime) -> list[str]:
    """Hand a catch-up to the track of every waiting cluster that is connected again; the
    names of those clusters."""
    caught: list[str] = []
    for track in await asyncio.to_thread(rt.records.tracks.list):
        if track.last_good_revision is None:
            continue
        records = waiting(await asyncio.to_thread(rt.records.clusters.list, track.id))
        if records:
            caught += await _catch_up(client, rt, track, records)
    return caught


async def _catch_up(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    track: TrackRecord,
    records: list[ClusterRecord],
) -> list[str]:
    by_id = {r.cluster_id.lower(): r for r in records}
    clusters = await asyncio.to_thread(rt.fleet.describe, [r.cluster_id for r in records])
    caught = []
    for cluster in clusters:
        record = by_id.get(cluster.id.lower())
        if record is None or cluster.is_offline or cluster.connectivity_status is None:
            continue
        # The same cause for as long as the cluster waits: a catch-up already handed over
        # (and not run yet) is not handed over twice.
        cause = f"reconnect:{record.last_rollout_id}:{cluster.id.lower()}"
        handed = await catch_up_on(client, rt, track, cluster, record, cause, "reconnected")
        if handed is not None:
            caught.append(cluster.name)
    return caught
