"""Event Grid: Azure tells arcwave about its clusters and registries.

- `Microsoft.Resources.ResourceWriteSuccess` on a connectedCluster → catch-up;
  on a fluxConfiguration → drift check (report, or revert when the track says so);
- `Microsoft.ContainerRegistry.ImagePushed` / `ChartPushed` matching an OCI track's
  `ociTrigger` (registry, repository, tag pattern) → a rollout of `tag@digest`;
- anything else → one log line.

Every event is deduped on its id; the dedupe record is only marked done once the work is
handed over, so Event Grid's redelivery of a failed attempt finishes it.

Connected clusters raise no availability events (the HealthResources topic covers virtual
machines and scale sets only), so a cluster coming back online is found by the
`watch_connectivity` timer (triggers/watch.py), not here.
"""

import asyncio
import fnmatch
import logging
import re
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.runtime import Runtime, runtime
from shared.store import Trigger
from triggers.dispatch import hand_over, handing_over
from triggers.fleetwatch import catch_up, check_drift

log = logging.getLogger("arcwave.triggers.events")
bp = df.Blueprint()

WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"
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
    async with handing_over(rt.records, SOURCE, event_id) as seen:
        if seen:
            log.info("event %s seen before; skipped", event_id)
            return
        await _dispatch(client, rt, event_id, event_type, data, f"{SOURCE}:{event_id}")


async def _dispatch(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    event_id: str,
    event_type: str,
    data: dict[str, Any],
    cause: str,
) -> None:
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
    else:
        log.info("event %s of type %s ignored", event_id, event_type)


async def _catch_up(
    client: df.DurableOrchestrationClient, cluster_id: str, cause: str, why: str
) -> None:
    rt = runtime()
    clusters = await asyncio.to_thread(rt.fleet.describe, [cluster_id])
    for cluster in clusters:
        await catch_up(client, rt, cluster, cause, why)


IMAGE_PUSHED = "Microsoft.ContainerRegistry.ImagePushed"
CHART_PUSHED = "Microsoft.ContainerRegistry.ChartPushed"
ACR_SOURCE = "acr"
_REGISTRY = re.compile(r".*/providers/Microsoft\.ContainerRegistry/registries/([^/]+)$", re.I)


@bp.function_name("on_acr_event")
@bp.event_grid_trigger(arg_name="event")
@bp.durable_client_input(client_name="client")
async def on_acr_event(event: func.EventGridEvent, client: df.DurableOrchestrationClient) -> None:
    await handle_push(client, event.id, event.event_type, event.topic or "", event.get_json() or {})


async def handle_push(
    client: df.DurableOrchestrationClient,
    event_id: str,
    event_type: str,
    topic: str,
    data: dict[str, Any],
) -> list[str]:
    """An image or chart pushed to a registry: a rollout on every OCI track whose
    `ociTrigger` names that registry and repository and whose tag pattern takes the tag."""
    if event_type not in (IMAGE_PUSHED, CHART_PUSHED):
        log.info("event %s of type %s ignored", event_id, event_type)
        return []
    pushed = registry_push(topic, data)
    if pushed is None:
        log.info("event %s: no repository, tag or digest; ignored", event_id)
        return []
    registry, repository, tag, digest = pushed
    rt = runtime()
    started: list[str] = []
    async with handing_over(rt.records, ACR_SOURCE, event_id) as seen:
        if seen:
            log.info("event %s seen before; skipped", event_id)
            return []
        for track in await asyncio.to_thread(rt.records.tracks.list):
            trigger = track.track_spec().oci_trigger
            if trigger is None or trigger.repository != repository:
                continue
            if not _same_registry(trigger.registry, registry):
                continue
            if not fnmatch.fnmatchcase(tag, trigger.tag_pattern):
                log.info(
                    "%s:%s does not match %s of track %s",
                    repository,
                    tag,
                    trigger.tag_pattern,
                    track.id,
                )
                continue
            handed = await hand_over(
                client,
                rt,
                track,
                f"{tag}@{digest}" if digest else tag,
                Trigger(kind="oci-push", actor=registry, delivery_id=event_id),
                f"{ACR_SOURCE}:{event_id}",
            )
            started.append(handed["rolloutId"] or "")
    return started


def registry_push(topic: str, data: dict[str, Any]) -> tuple[str, str, str, str | None] | None:
    """`(registry host, repository, tag, digest)` of a push event, or None when incomplete."""
    target: dict[str, Any] = data.get("target") or {}
    request: dict[str, Any] = data.get("request") or {}
    if not isinstance(target, dict) or not isinstance(request, dict):
        return None
    repository, tag, digest = target.get("repository"), target.get("tag"), target.get("digest")
    host = request.get("host")
    if not host:
        found = _REGISTRY.match(topic)
        host = f"{found[1]}.azurecr.io" if found else None
    if not (isinstance(repository, str) and isinstance(tag, str) and isinstance(host, str)):
        return None
    return host.lower(), repository, tag, digest if isinstance(digest, str) else None


def _same_registry(wanted: str, host: str) -> bool:
    wanted = wanted.lower()
    return wanted == host or wanted.split(".", 1)[0] == host.split(".", 1)[0]
