"""`POST /api/flux/events`: Flux notification-controller events wake the wave watching a cluster.

The Provider is `generic-hmac` (X-Signature: sha256=HMAC of the body with
`ARCWAVE_FLUX_HMAC_KEY`); the Alert puts the cluster's ARM id in `metadata.clusterId`
(infra/cluster/). A body over `FLUX_BODY_LIMIT` (256 KiB) is refused (413) unread. An event
is only a hint: the wave reads health from Azure when it wakes, so a lost or forged hint can
never pass or fail a cluster.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.contracts.orchestrations import HEALTH_EVENT
from shared.names import wave_instance
from shared.runtime import runtime
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
    woke: list[str] = []
    for track in await asyncio.to_thread(rt.records.tracks.list):
        record = await asyncio.to_thread(rt.records.clusters.find, track.id, event.cluster_id)
        if record is None or record.last_rollout_id is None or record.wave is None:
            continue
        for instance in (
            wave_instance(record.last_rollout_id, record.wave),
            wave_instance(record.last_rollout_id, record.wave, rollback=True),
        ):
            hint = {"clusterId": event.cluster_id, "reason": event.reason}
            if await wake(client, instance, HEALTH_EVENT, hint):
                woke.append(instance)
    # One per cluster and reconcile: DEBUG (the wave's verdicts are read from Azure anyway).
    log.debug("flux %s on %s: woke %s", event.reason, event.cluster_id, woke or "nothing")
    annotate(outcome="woke" if woke else "none")
    return answer({"woke": woke}, 202)
