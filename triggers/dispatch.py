"""Handing a revision to a track: the one path every trigger takes to start a rollout.

    record the rollout (Pending) — create-if-absent, so a retried trigger writes it once
    make sure the track's orchestrator runs (`track:<name>`)
    raise `revision` to it — durable from here on

Rollout ids are derived from what started them (a delivery id, an event id), so a trigger
that runs twice for the same cause hands over the same rollout, which the track runs once.
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Any, TypedDict

import azure.durable_functions as df

from orchestrators.common import REVISION_EVENT, TRACK, RevisionRequest, track_instance
from shared.reasons import Reason
from shared.revision import short_revision
from shared.states import RolloutState
from shared.store import Conflict, Records, RolloutRecord, TrackRecord, Trigger
from shared.store.records import utc_now

log = logging.getLogger("arcwave.triggers.dispatch")

POLL_SECONDS_SETTING = "ARCWAVE_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 10.0
LIVE = {"Running", "Pending", "ContinuedAsNew", "Suspended"}


class Handed(TypedDict):
    """One track's answer to a trigger: `{"track", "revision", "rolloutId", "queued"}`."""

    track: str
    revision: str
    rolloutId: str | None
    queued: bool


def rollout_id(track: str, revision: str, cause: str) -> str:
    """A readable id unique to (track, revision, cause): `baseline-2b7e0c1-5f3a9c1e`
    (an OCI revision shows its tag: `apps-v1.2.3-5f3a9c1e`)."""
    digest = hashlib.sha256(f"{track}\x1f{revision}\x1f{cause}".encode()).hexdigest()[:8]
    return f"{track}-{_shown(revision)}-{digest}"


def _shown(revision: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", short_revision(revision).removeprefix("sha256:"))[:40]


def poll_seconds() -> float:
    """How often waves look at their clusters (`ARCWAVE_POLL_SECONDS`, default 10)."""
    try:
        return max(0.2, float(os.environ.get(POLL_SECONDS_SETTING, DEFAULT_POLL_SECONDS)))
    except ValueError:
        return DEFAULT_POLL_SECONDS


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
    records: Records,
    track: TrackRecord,
    revision: str,
    trigger: Trigger,
    cause: str,
    *,
    clusters: list[str] | None = None,
) -> Handed:
    """Record the rollout and send it to its track; safe to repeat for the same cause."""
    spec = track.track_spec()
    rid = rollout_id(spec.name, revision, cause)
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
                created_at=now,
                updated_at=now,
            ),
        )
    await ensure_track_running(client, spec.name)
    request = RevisionRequest(
        rolloutId=rid,
        revision=revision,
        trigger=trigger.model_dump(mode="json", by_alias=True, exclude_none=True),
        supersede=spec.supersede.value,
        pollSeconds=poll_seconds(),
        clusters=clusters,
    )
    await client.raise_event(track_instance(spec.name), REVISION_EVENT, request)
    log.info("handed %s of track %s to its orchestrator as %s", revision[:7], spec.name, rid)
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


def _is_live(status: Any) -> bool:
    runtime = getattr(status, "runtime_status", None)
    name = getattr(runtime, "value", runtime)
    return name in LIVE
