"""What the Event Grid triggers and the sweep do with a cluster: catch it up, or report drift.

- catch-up: a connected cluster in a track's fleet selection that is not at the track's last
  good revision (it was offline, skipped, or joined since) gets that revision, through its
  track like any rollout;
- drift: a fluxConfiguration that differs from what arcwave last wrote is recorded on the
  cluster (`Drifted`) and published as `arcwave.cluster.drifted`; under `drift: revert` the
  desired revision is written back the same way.

A cluster that a running rollout is handling right now is left alone: that rollout decides.
"""

import asyncio
import logging
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from shared.cluster import Cluster
from shared.desired import desired_configuration
from shared.drift import differences, modified_by
from shared.events import EventType, lifecycle_event
from shared.planner import outside_selection
from shared.reasons import Reason
from shared.revision import short_revision
from shared.runtime import Runtime
from shared.states import ClusterState
from shared.store import ClusterRecord, TrackRecord, Trigger
from shared.times import utc_now
from shared.trackspec import DriftPolicy, TrackSpec
from triggers.dispatch import Handed, hand_over

log = logging.getLogger("arcwave.triggers.fleetwatch")


class _Unread:
    """The configuration has not been read yet (None means it is absent)."""


UNREAD = _Unread()


async def catch_up(
    client: df.DurableOrchestrationClient, rt: Runtime, cluster: Cluster, cause: str, why: str
) -> list[Handed]:
    """Bring `cluster` to each of its tracks' last good revision where it is not there yet."""
    handed = []
    for track in await asyncio.to_thread(rt.records.tracks.list):
        record = await asyncio.to_thread(rt.records.clusters.find, track.id, cluster.id)
        item = await catch_up_on(client, rt, track, cluster, record, cause, why)
        if item is not None:
            handed.append(item)
    return handed


async def catch_up_on(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    track: TrackRecord,
    cluster: Cluster,
    record: ClusterRecord | None,
    cause: str,
    why: str,
) -> Handed | None:
    """Catch `cluster` (whose record on `track` is `record`) up on one track, if it needs it."""
    target = track.last_good_revision
    if target is None or cluster.is_offline or cluster.exclusion:
        return None
    if outside_selection(track.track_spec().fleet, cluster):
        return None
    if record is not None and (
        record.state.is_open
        or (record.state is ClusterState.HEALTHY and record.applied_revision == target)
    ):
        return None
    trigger = Trigger(kind="catch-up", actor=why)
    handed = await hand_over(client, rt, track, target, trigger, cause, clusters=[cluster.id])
    log.info(
        "catching %s up to %s on track %s (%s)", cluster.name, short_revision(target), track.id, why
    )
    return handed


async def check_drift(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    cluster_id: str,
    configuration: str,
    cause: str,
) -> list[str]:
    """Compare the configuration on the cluster with what arcwave wrote; act on drift.
    Returns the tracks on which it drifted."""
    drifted: list[str] = []
    for track in await asyncio.to_thread(rt.records.tracks.list):
        if track.track_spec().configuration.name != configuration:
            continue
        record = await asyncio.to_thread(rt.records.clusters.find, track.id, cluster_id)
        if record is not None and await check_drift_on(client, rt, track, record, cause):
            drifted.append(track.id)
    return drifted


def looks_drifted(spec: TrackSpec, record: ClusterRecord, actual: dict[str, Any] | None) -> bool:
    """Whether `actual` differs from what arcwave last wrote on the cluster with `spec`."""
    if record.desired_revision is None:
        return False
    if actual is None:
        return True
    return bool(differences(desired_configuration(spec, record.desired_revision), actual))


async def check_drift_on(
    client: df.DurableOrchestrationClient,
    rt: Runtime,
    track: TrackRecord,
    record: ClusterRecord,
    cause: str,
    *,
    actual: dict[str, Any] | _Unread | None = UNREAD,
) -> bool:
    """Check one cluster of one track for drift (reading its configuration unless given);
    report it, and revert it when the track says so — once per desired revision: drift again
    after a revert means something keeps writing it (an Azure Policy remediation, say), and
    reverting again would only fight it, so it is reported as `DriftRecurring` instead."""
    if record.desired_revision is None or record.state.is_open:
        return False
    spec = await spec_written(rt, track, record)
    name = spec.configuration.name
    if isinstance(actual, _Unread):
        actual = await asyncio.to_thread(rt.fleet.read_configuration, record.cluster_id, name)
    found = (
        ["the configuration was deleted"]
        if actual is None
        else differences(desired_configuration(spec, record.desired_revision), actual)
    )
    if not found:
        return False
    who = modified_by(actual) if actual is not None else ""
    recurring = record.drift_reverted == record.desired_revision
    reason = Reason.DRIFT_RECURRING if recurring else Reason.DRIFTED
    await _report(rt, track, record, found, cause, reason, who)
    if spec.drift is DriftPolicy.REVERT and not recurring:
        await asyncio.to_thread(
            rt.records.clusters.update,
            track.id,
            record.cluster_id,
            lambda r: r.model_copy(update={"drift_reverted": record.desired_revision}),
        )
        trigger = Trigger(kind="drift-revert", actor="arcwave")
        await hand_over(
            client,
            rt,
            track,
            record.desired_revision,
            trigger,
            cause,
            clusters=[record.cluster_id],
        )
    return True


async def spec_written(rt: Runtime, track: TrackRecord, record: ClusterRecord) -> TrackSpec:
    """The spec the cluster's configuration was last written with: its last rollout's snapshot
    (a later edit of the track is not drift); the track's own spec when that is gone."""
    if record.last_rollout_id:
        rollout = await asyncio.to_thread(
            rt.records.rollouts.find, track.id, record.last_rollout_id
        )
        if rollout is not None and rollout.spec is not None:
            return rollout.planned_spec()
    return track.track_spec()


async def _report(
    rt: Runtime,
    track: TrackRecord,
    record: ClusterRecord,
    found: list[str],
    cause: str,
    reason: Reason,
    who: str,
) -> None:
    message = "changed outside arcwave: " + "; ".join(found) + who
    if reason is Reason.DRIFT_RECURRING:
        message += "; changed again after arcwave put it back, so arcwave leaves it for you"
    now = rt.now()

    def mark(current: ClusterRecord) -> ClusterRecord:
        return current.moved(current.state, reason, message, now)

    await asyncio.to_thread(rt.records.clusters.update, track.id, record.cluster_id, mark)
    event = lifecycle_event(
        EventType.CLUSTER_DRIFTED,
        track=track.id,
        subject=f"clusters/{record.name}",
        time=now,
        reason=reason,
        message=message,
        data={"clusterId": record.cluster_id, "differences": found},
        discriminator=cause,
    )
    await asyncio.to_thread(rt.publisher.publish, [event])
    log.warning("drift on %s (track %s): %s", record.name, track.id, "; ".join(found))


def stamp(when: datetime | None = None) -> str:
    return (when or utc_now()).strftime("%Y%m%dT%H%M")
