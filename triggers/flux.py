"""`POST /api/flux/events`: Flux notification-controller events wake the wave watching a cluster.

The Provider is `generic-hmac` (X-Signature: sha256=HMAC of the body with
`ARCWAVE_FLUX_HMAC_KEY`); the Alert puts the cluster's ARM id in `metadata.clusterId`
(infra/cluster/). A body over `FLUX_BODY_LIMIT` (256 KiB) is refused (413) unread. An event
is only a hint: the wave reads health from Azure when it wakes, so a lost or forged hint can
never pass or fail a cluster.

An event wakes exactly the wave that has the cluster in flight, on each track: the rollout's
wave, or its rollback while the cluster is being restored. A cluster not in flight (settled,
pending, or never planned) wakes nothing: its event cannot change a verdict, and every wake-up
costs the wave a look and a few history events. The wake-up carries the event's reason only,
never the cluster id, so no cluster id enters a wave's history.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.contracts.orchestrations import HEALTH_EVENT
from shared.names import wave_instance
from shared.runtime import runtime
from shared.states import ClusterState
from shared.store import Records
from shared.telemetry import annotate
from shared.webhooks import FLUX_BODY_LIMIT, SignatureError, WebhookConfigError, parse_flux_event
from triggers.dispatch import wake
from triggers.http import answer, client_route, read_body, refuse

log = logging.getLogger("arcwave.triggers.flux")
bp = df.Blueprint()


@client_route(bp, "flux/events", ["POST"], anonymous=True)
async def flux_event(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    rt = runtime()
    annotate(provider="flux")
    try:
        body = read_body(req, FLUX_BODY_LIMIT, "Flux event")
        event = parse_flux_event(dict(req.headers), body, rt.settings.flux_hmac_key)
    except (SignatureError, WebhookConfigError) as error:
        log.warning("flux event refused: %s", error)
        annotate(outcome="refused")
        return refuse(401, "unauthorized")
    woke = await wake_waves(client, rt.records, event.cluster_id, event.reason)
    # One per cluster and reconcile: DEBUG (the wave's verdicts are read from Azure anyway).
    log.debug("flux %s on %s: woke %s", event.reason, event.cluster_id, woke or "nothing")
    annotate(outcome="woke" if woke else "none")
    return answer({"woke": woke}, 202)


async def wake_waves(
    client: df.DurableOrchestrationClient, records: Records, cluster_id: str, reason: str
) -> list[str]:
    """Wake the wave that has `cluster_id` in flight on each track; the instances woken."""
    woke: list[str] = []
    for track in await asyncio.to_thread(records.tracks.list):
        record = await asyncio.to_thread(records.clusters.find, track.id, cluster_id)
        if record is None or record.last_rollout_id is None or record.wave is None:
            continue
        if not record.state.is_open:  # settled or not written: no verdict to look for
            continue
        rollback = record.state is ClusterState.ROLLING_BACK
        instance = wave_instance(record.last_rollout_id, record.wave, rollback=rollback)
        if await wake(client, instance, HEALTH_EVENT, {"reason": reason}):
            woke.append(instance)
    return woke
