"""Event Grid: Azure tells arcwave about its clusters.

- `Microsoft.Resources.ResourceWriteSuccess` on a connectedCluster → catch-up;
  on a fluxConfiguration → drift check (report, or revert when the track says so);
- `Microsoft.ResourceNotifications.HealthResources.AvailabilityStatusChanged` to Available on a
  connectedCluster → catch-up;
- anything else → one log line.

Every event is deduped on its id; the dedupe record is only marked done once the work is
handed over, so Event Grid's redelivery of a failed attempt finishes it.
"""

import asyncio
import logging
import re
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from activities.runtime import runtime
from triggers.fleetwatch import catch_up, check_drift

log = logging.getLogger("arcwave.triggers.events")
bp = df.Blueprint()

WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"
AVAILABILITY = "Microsoft.ResourceNotifications.HealthResources.AvailabilityStatusChanged"
SOURCE = "eventgrid"

_CLUSTER = re.compile(
    r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Kubernetes"
    r"/connectedClusters/[^/]+)",
    re.IGNORECASE,
)
_CONFIGURATION = re.compile(
    r"(?P<cluster>.+)/providers/Microsoft\.KubernetesConfiguration/fluxConfigurations/(?P<name>[^/]+)",
    re.IGNORECASE,
)


@bp.function_name("on_arm_event")
@bp.event_grid_trigger(arg_name="event")
@bp.durable_client_input(client_name="client")
async def on_arm_event(event: func.EventGridEvent, client: df.DurableOrchestrationClient) -> None:
    await handle(client, event.id, event.event_type, event.get_json() or {})


async def handle(
    client: df.DurableOrchestrationClient, event_id: str, event_type: str, data: dict[str, Any]
) -> None:
    rt = runtime()
    earlier = await asyncio.to_thread(rt.records.deliveries.claim, SOURCE, event_id)
    if earlier is not None and earlier.dispatched:
        log.info("event %s seen before; skipped", event_id)
        return
    cause = f"{SOURCE}:{event_id}"
    if event_type == WRITE_SUCCESS:
        uri = str(data.get("resourceUri") or "")
        configuration = _CONFIGURATION.fullmatch(uri)
        if configuration:
            cluster = _CLUSTER.fullmatch(configuration["cluster"])
            if cluster:
                await check_drift(client, rt, cluster[1], configuration["name"], cause)
        elif _CLUSTER.fullmatch(uri):
            await _catch_up(client, uri, cause, "cluster written")
        else:
            log.info("event %s: write on %s is not about a cluster; ignored", event_id, uri)
    elif event_type == AVAILABILITY:
        props = ((data.get("resourceInfo") or {}).get("properties")) or {}
        target = str(props.get("targetResourceId") or "")
        if _CLUSTER.fullmatch(target) and props.get("availabilityState") == "Available":
            await _catch_up(client, target, cause, "cluster available again")
        else:
            log.info(
                "event %s: %s is %s; nothing to do",
                event_id,
                target,
                props.get("availabilityState"),
            )
    else:
        log.info("event %s of type %s ignored", event_id, event_type)
    await asyncio.to_thread(rt.records.deliveries.mark_dispatched, SOURCE, event_id)


async def _catch_up(
    client: df.DurableOrchestrationClient, cluster_id: str, cause: str, why: str
) -> None:
    rt = runtime()
    clusters = await asyncio.to_thread(rt.fleet.describe, [cluster_id])
    for cluster in clusters:
        await catch_up(client, rt, cluster, cause, why)
