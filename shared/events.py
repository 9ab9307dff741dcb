"""arcwave's lifecycle events: CloudEvents 1.0 with deterministic ids.

An activity that publishes may run twice (durable activities are at-least-once); the same
inputs give the same event id, so subscribers can drop the repeat.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from shared.reasons import Reason
from shared.wire import WireModel

_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5e4f-9a0b-1c2d3e4f5a6b")


class EventType(StrEnum):
    """The `type` of each CloudEvent arcwave publishes."""

    ROLLOUT_STARTED = "arcwave.rollout.started"
    WAVE_STARTED = "arcwave.wave.started"
    WAVE_SUCCEEDED = "arcwave.wave.succeeded"
    WAVE_FAILED = "arcwave.wave.failed"
    APPROVAL_REQUESTED = "arcwave.approval.requested"
    ROLLOUT_SUCCEEDED = "arcwave.rollout.succeeded"
    ROLLOUT_FAILED = "arcwave.rollout.failed"
    ROLLOUT_ROLLED_BACK = "arcwave.rollout.rolledBack"
    ROLLOUT_ABORTED = "arcwave.rollout.aborted"
    ROLLOUT_SUPERSEDED = "arcwave.rollout.superseded"
    CLUSTER_DRIFTED = "arcwave.cluster.drifted"


class LifecycleEvent(WireModel):
    """One CloudEvent: who it is about (`subject`), what happened (`type`) and why."""

    id: str
    type: EventType
    source: str
    subject: str
    time: datetime
    reason: Reason
    message: str
    data: dict[str, Any] = Field(default_factory=dict)

    def cloud_event_data(self) -> dict[str, Any]:
        """The `data` of the CloudEvent: reason and message first, then the details."""
        return {"reason": self.reason.value, "message": self.message, **self.data}


def event_id(*parts: str) -> str:
    """A UUID derived from `parts` (for example rollout id, event type, wave name)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def lifecycle_event(
    kind: EventType,
    *,
    track: str,
    subject: str,
    time: datetime,
    reason: Reason,
    message: str,
    data: dict[str, Any] | None = None,
    discriminator: str = "",
) -> LifecycleEvent:
    """Build an event whose id depends only on what it reports."""
    return LifecycleEvent(
        id=event_id(track, subject, kind.value, discriminator),
        type=kind,
        source=f"/arcwave/tracks/{track}",
        subject=subject,
        time=time,
        reason=reason,
        message=message,
        data=data or {},
    )
