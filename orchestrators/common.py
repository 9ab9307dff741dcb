"""What the orchestrators share: names, retry policy, and the small steps they all take.

Everything here is deterministic: time comes from the context, waits are durable timers,
and every effect is a yielded activity call.
"""

from collections.abc import Generator
from datetime import timedelta
from typing import Any, TypedDict

import azure.durable_functions as df

from activities.contracts import READ_CONTROL, RECORD, Control, ProgressRecord, RolloutRef

TRACK = "track_orchestrator"
ROLLOUT = "rollout_orchestrator"
WAVE = "wave_orchestrator"

CONTROL_EVENT = "control"
"""Raised to a rollout and its running wave when an operator changes the rollout's control."""
HEALTH_EVENT = "health"
"""Raised to a wave when Flux reports on one of its clusters: look again now."""
REVISION_EVENT = "revision"
"""Raised to a track orchestrator with a new `RevisionRequest`."""

ACTIVITY_RETRY = df.RetryOptions(
    first_retry_interval_in_milliseconds=2000, max_number_of_attempts=5
)
"""Activities are idempotent, so a failed attempt (ARM or store briefly unavailable) is retried."""

IDLE_WAIT = timedelta(hours=1)
"""How long a paused rollout sleeps between looks at its control when no event wakes it."""

Step = Generator[Any, Any, Any]


class RevisionRequest(TypedDict):
    """A revision for a track to roll, as triggers send it."""

    rolloutId: str
    revision: str
    trigger: dict[str, str]
    supersede: str
    """The track's policy when the request was made: `queue` or `restart`."""
    pollSeconds: float
    clusters: list[str] | None
    """A catch-up: bring only these clusters to `revision` (the track's last good)."""


def track_instance(track: str) -> str:
    return f"track:{track}"


def wave_instance(rollout_id: str, wave: str, *, rollback: bool = False) -> str:
    return f"{rollout_id}:{wave}" + (":rollback" if rollback else "")


def record(context: df.DurableOrchestrationContext, step: ProgressRecord) -> Step:
    """Write one step of a rollout down; returns the rollout's control block."""
    control: Control = yield context.call_activity_with_retry(RECORD, ACTIVITY_RETRY, step)
    return control


def read_control(context: df.DurableOrchestrationContext, ref: RolloutRef) -> Step:
    control: Control = yield context.call_activity_with_retry(READ_CONTROL, ACTIVITY_RETRY, ref)
    return control
