"""Handing a revision to a track: the one path every trigger takes to start a rollout.

    record the rollout (Pending) — create-if-absent, so a retried trigger writes it once
    make sure the track's orchestrator runs (`track:<name>`)
    raise `revision` to it — durable from here on

Rollout ids are derived from what started them (a delivery id, an event id), so a trigger
that runs twice for the same cause hands over the same rollout, which the track runs once.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypedDict

import azure.durable_functions as df

from shared import telemetry
from shared.contracts.activities import TRACEPARENT
from shared.contracts.orchestrations import (
    REVISION_EVENT,
    TRACK,
    RetryPolicy,
    RevisionRequest,
    Timing,
    failure_text,
)
from shared.names import rollout_id, track_instance
from shared.reasons import Reason
from shared.runtime import Runtime
from shared.settings import Settings
from shared.states import RolloutState
from shared.store import Conflict, Records, RolloutRecord, TrackRecord, Trigger
from shared.times import utc_now

log = logging.getLogger("arcwave.triggers.dispatch")

LIVE = {"Running", "Pending", "ContinuedAsNew", "Suspended"}


class Handed(TypedDict):
    """One track's answer to a trigger: `{"track", "revision", "rolloutId", "queued"}`."""

    track: str
    revision: str
    rolloutId: str | None
    queued: bool


def timing(settings: Settings) -> Timing:
    """The poll interval and retry policy orchestrations get from the app settings."""
    retry = settings.retry
    return Timing(
        pollSeconds=settings.poll_seconds,
        retry=RetryPolicy(
            firstSeconds=retry.first_seconds,
            maxIntervalSeconds=retry.max_interval_seconds,
            horizonSeconds=retry.horizon_seconds,
        ),
    )


@contextlib.asynccontextmanager
async def handing_over(records: Records, source: str, delivery_id: str) -> AsyncIterator[bool]:
    """Claim a delivery (webhook or event id) for the block.

    Yields True when an earlier attempt already handed its work over: the caller answers that
    it is a duplicate. Otherwise the delivery is marked handed over only when the block ends
    without an error, so a crash in between makes the sender's redelivery finish the job.
    """
    earlier = await asyncio.to_thread(records.deliveries.claim, source, delivery_id)
    if earlier is not None and earlier.dispatched:
        yield True
        return
    yield False
    await asyncio.to_thread(records.deliveries.mark_dispatched, source, delivery_id)


async def hand_over(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    track: TrackRecord,
    revision: str,
    trigger: Trigger,
    cause: str,
    *,
    clusters: list[str] | None = None,
    known_id: str | None = None,
    fast: bool = False,
) -> Handed:
    """Record the rollout and send it to its track; safe to repeat for the same cause (or,
    with `known_id`, for a rollout recorded earlier)."""
    records = rt.records
    spec = track.track_spec()
    rid = known_id or rollout_id(spec.name, revision, cause)
    queued = track.active_rollout_id not in (None, rid)
    now = utc_now()
    with contextlib.suppress(Conflict):
        await asyncio.to_thread(
            records.rollouts.create,
            RolloutRecord(
                id=rid,
                track=spec.name,
                revision=revision,
                previous_revision=track.last_good_revision,
                state=RolloutState.PENDING,
                reason=Reason.QUEUED if queued else Reason.ROLLOUT_STARTED,
                message="waiting for the running rollout of its track" if queued else "starting",
                trigger=trigger,
                clusters=clusters,
                fast=fast,
                created_at=now,
                updated_at=now,
            ),
        )
    with telemetry.handover(spec.name, rid, revision) as traceparent:
        await ensure_track_running(client, spec.name)
        carried = trigger.model_dump(mode="json", by_alias=True, exclude_none=True)
        if traceparent:
            carried[TRACEPARENT] = traceparent
        request = RevisionRequest(
            rolloutId=rid,
            revision=revision,
            trigger=carried,
            supersede=spec.supersede.value,
            timing=timing(rt.settings),
            clusters=clusters,
        )
        await client.raise_event(track_instance(spec.name), REVISION_EVENT, request)
    log.info("handed %s of track %s to its orchestrator as %s", revision, spec.name, rid)
    return Handed(track=spec.name, revision=revision, rolloutId=rid, queued=queued)


async def ensure_track_running(client: df.DurableOrchestrationClient, track: str) -> None:
    """Start `track:<name>` unless it runs; a concurrent start by another trigger is fine."""
    instance = track_instance(track)
    status = await client.get_status(instance)
    if _is_live(status):
        return
    try:
        await client.start_new(TRACK, instance, None)
    except Exception as error:
        # Someone else started it between our look and our start: that is what we wanted.
        status = await client.get_status(instance)
        if not _is_live(status):
            raise RuntimeError(f"could not start the orchestrator of track '{track}'") from error


async def hand_recovery(
    client: df.DurableOrchestrationClient,
    settings: Settings,
    rollout: RolloutRecord,
    how: str,
) -> None:
    """Ask the rollout's track to close a rollout whose orchestration ended without doing so."""
    await ensure_track_running(client, rollout.track)
    request = RevisionRequest(
        rolloutId=rollout.id,
        revision=rollout.revision,
        trigger=rollout.trigger.model_dump(mode="json", by_alias=True, exclude_none=True),
        supersede="queue",
        timing=timing(settings),
        clusters=rollout.clusters,
        recover=how,
    )
    await client.raise_event(track_instance(rollout.track), REVISION_EVENT, request)
    log.warning("rollout %s handed to its track to be closed: %s", rollout.id, how)


_NOT_THERE = ("No instance with ID", "is gone: either completed or failed")
"""The durable client's words for 404 and 410."""


async def if_there(action: Awaitable[None], what: str) -> bool:
    """Run a durable client call on one instance; False when the instance does not exist or
    has finished. Any other failure is logged (naming `what`) and also False: callers use this
    only where the orchestration reads the recorded truth at its next look anyway."""
    try:
        await action
    except Exception as error:
        if not any(words in str(error) for words in _NOT_THERE):
            log.warning("could not %s: %s", what, error)
        return False
    return True


async def wake(
    client: df.DurableOrchestrationClient, instance: str, event: str, data: object
) -> bool:
    """Raise `event` on `instance` so it looks now rather than at its next poll."""
    return await if_there(
        client.raise_event(instance, event, data),
        f"raise {event} on {instance} (it looks at its next poll)",
    )


async def orchestration_status(client: df.DurableOrchestrationClient, instance: str) -> str | None:
    """The runtime status of an instance (`Running`, `Failed`...), None when it does not exist."""
    status, _ = await orchestration_outcome(client, instance)
    return status


async def orchestration_outcome(
    client: df.DurableOrchestrationClient, instance: str
) -> tuple[str | None, str | None]:
    """The runtime status of an instance and, once it failed or was terminated, why (one
    line); (None, None) when it does not exist."""
    status = await client.get_status(instance)
    runtime = getattr(status, "runtime_status", None)
    name = getattr(runtime, "value", runtime)
    output = getattr(status, "output", None)
    ended = name in ("Failed", "Terminated") and output
    why = failure_text(Exception(str(output))) if ended else None
    return (str(name) if name else None), why


def is_live(status: str | None) -> bool:
    return status in LIVE


def _is_live(status: Any) -> bool:
    runtime = getattr(status, "runtime_status", None)
    name = getattr(runtime, "value", runtime)
    return name in LIVE
