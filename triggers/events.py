"""Event Grid: Azure tells arcwave about its clusters and registries.

- `Microsoft.Resources.ResourceWriteSuccess` on a connectedCluster → catch-up;
  on a fluxConfiguration → drift check (report, or revert when the track says so);
- `Microsoft.ContainerRegistry.ImagePushed` / `ChartPushed` matching an OCI track's
  `ociTrigger` (registry, repository, tag pattern) → a rollout of `tag@digest`;
- anything else → one log line.

Every event is deduped on its id; the dedupe record is only marked done once the work is
handed over, so Event Grid's redelivery of a failed attempt finishes it.

An event arcwave cannot read (`triggers.eventshapes`: its `data` not an object, a field of the
wrong type, a shape no publisher sends, over Event Grid's 1 MB) is logged once at WARNING with
its id and a running count (`malformed_events=N`, also kept in `MALFORMED_EVENTS`), and
acknowledged: it would fail the same way on every redelivery, so it never raises.

Connected clusters raise no availability events (the HealthResources topic covers virtual
machines and scale sets only), so a cluster coming back online is found by the
`watch_connectivity` timer (triggers/watch.py), not here.
"""

import asyncio
import fnmatch
import logging
import re
from collections import Counter
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.problems import cut
from shared.runtime import Runtime, runtime
from shared.store import Trigger
from shared.telemetry import annotate, receiving
from triggers.dispatch import hand_over, handing_over
from triggers.eventshapes import (
    Envelope,
    Malformed,
    RegistryPush,
    read_envelope,
    registry_push,
    resource_uri,
)
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


MALFORMED_EVENTS: Counter[str] = Counter()
"""Malformed events acknowledged without action since the process started, by trigger."""


def acknowledge_malformed(trigger: str, event: func.EventGridEvent, malformed: Malformed) -> None:
    """Log a malformed event once (WARNING, with its id) and count it; it is not retried."""
    MALFORMED_EVENTS[trigger] += 1
    annotate(outcome="malformed")
    log.warning(
        "event %s to %s is malformed, acknowledged without action: %s (malformed_events=%d)",
        cut(repr(getattr(event, "id", None)), 80),
        trigger,
        malformed.why,
        MALFORMED_EVENTS[trigger],
    )


@bp.function_name("on_arm_event")
@bp.event_grid_trigger(arg_name="event")
@bp.durable_client_input(client_name="client")
async def on_arm_event(event: func.EventGridEvent, client: df.DurableOrchestrationClient) -> None:
    with receiving("on_arm_event", SOURCE, **_seen(event)):
        read = read_arm_event(event)
        if isinstance(read, Malformed):
            acknowledge_malformed("on_arm_event", event, read)
            return
        if read is not None:
            await handle(client, read.id, read.type, read.data)
        annotate(outcome="handled" if read is not None else "ignored")


def _seen(event: func.EventGridEvent) -> dict[str, str | None]:
    """What a span says of an event: its id and type, cut (a malformed event's may be long)."""
    ids = (getattr(event, "id", None), getattr(event, "event_type", None))
    return {
        "event_id": cut(ids[0], 200) if isinstance(ids[0], str) else None,
        "event_type": cut(ids[1], 200) if isinstance(ids[1], str) else None,
    }


def read_arm_event(event: func.EventGridEvent) -> Envelope | Malformed | None:
    """The event as `handle` takes it; None (one log line) when it is not one arcwave acts
    on, `Malformed` when it cannot be read."""
    envelope = read_envelope(event)
    if isinstance(envelope, Malformed):
        return envelope
    if envelope.type != WRITE_SUCCESS:
        log.info("event %s of type %s ignored", envelope.id, cut(envelope.type, 120))
        return None
    uri = resource_uri(envelope.data)
    return uri if isinstance(uri, Malformed) else envelope


async def handle(
    client: df.DurableOrchestrationClient, event_id: str, event_type: str, data: dict[str, Any]
) -> None:
    rt = runtime()
    async with handing_over(rt.records, SOURCE, event_id) as seen:
        if seen:
            log.info("event %s seen before; skipped", event_id)
            annotate(outcome="duplicate")
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
            log.info(
                "event %s: write on %s is not about a cluster; ignored", event_id, cut(uri, 200)
            )
    else:
        log.info("event %s of type %s ignored", event_id, cut(event_type, 120))


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
    with receiving("on_acr_event", ACR_SOURCE, **_seen(event)):
        read = read_acr_event(event)
        if isinstance(read, Malformed):
            acknowledge_malformed("on_acr_event", event, read)
            return
        started = await handle_push(client, event.id, read) if read is not None else None
        annotate(outcome="ignored" if started is None else "handed" if started else "none")


def read_acr_event(event: func.EventGridEvent) -> RegistryPush | Malformed | None:
    """The push an ACR event announces; None (one log line) for other event types,
    `Malformed` when it cannot be read."""
    envelope = read_envelope(event)
    if isinstance(envelope, Malformed):
        return envelope
    if envelope.type not in (IMAGE_PUSHED, CHART_PUSHED):
        log.info("event %s of type %s ignored", envelope.id, cut(envelope.type, 120))
        return None
    found = _REGISTRY.match(envelope.topic)
    return registry_push(envelope.data, f"{found[1]}.azurecr.io" if found else None)


async def handle_push(
    client: df.DurableOrchestrationClient, event_id: str, pushed: RegistryPush
) -> list[str]:
    """An image or chart pushed to a registry: a rollout on every OCI track whose
    `ociTrigger` names that registry and repository and whose tag pattern takes the tag."""
    registry, repository, tag = pushed.registry, pushed.repository, pushed.tag
    rt = runtime()
    started: list[str] = []
    async with handing_over(rt.records, ACR_SOURCE, event_id) as seen:
        if seen:
            log.info("event %s seen before; skipped", event_id)
            annotate(outcome="duplicate")
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
                pushed.revision,
                Trigger(kind="oci-push", actor=registry, delivery_id=event_id),
                f"{ACR_SOURCE}:{event_id}",
            )
            started.append(handed["rolloutId"] or "")
    return started


def _same_registry(wanted: str, host: str) -> bool:
    wanted = wanted.lower()
    return wanted == host or wanted.split(".", 1)[0] == host.split(".", 1)[0]
