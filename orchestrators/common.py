"""What the orchestrators share: names, what they are started with, and the small steps they
all take.

Everything here is deterministic: time comes from the context, waits are durable timers,
and every effect is a yielded activity call.
"""

from datetime import datetime, timedelta
from typing import NotRequired, TypedDict

from activities.contracts import READ_CONTROL, RECORD, Control, ProgressRecord, RolloutRef
from orchestrators import retry
from orchestrators.listener import Listener, Step
from orchestrators.retry import RetryPolicy

TRACK = "track_orchestrator"
ROLLOUT = "rollout_orchestrator"
WAVE = "wave_orchestrator"

CONTROL_EVENT = "control"
"""Raised to a rollout and its running wave when an operator changes the rollout's control."""
HEALTH_EVENT = "health"
"""Raised to a wave when Flux reports on one of its clusters: look again now."""
REVISION_EVENT = "revision"
"""Raised to a track orchestrator with a new `RevisionRequest`."""

IDLE_WAIT = timedelta(hours=1)
"""How long a paused rollout sleeps between looks at its control when no event wakes it."""


class Timing(TypedDict):
    """How often waves look at their clusters and how long steps are retried: from the app
    settings when the revision was handed over (orchestrators never read settings)."""

    pollSeconds: float
    retry: RetryPolicy


class RevisionRequest(TypedDict):
    """A revision for a track to roll, as triggers send it."""

    rolloutId: str
    revision: str
    trigger: dict[str, str]
    supersede: str
    """The track's policy when the request was made: `queue` or `restart`."""
    timing: Timing
    clusters: list[str] | None
    """A catch-up: bring only these clusters to `revision` (the track's last good)."""
    recover: NotRequired[str]
    """Not a new revision: the rollout's orchestration ended without closing its record (the
    text says how); close it and apply its `onFailure` to what it changed."""


def record(listener: Listener, step: ProgressRecord, policy: RetryPolicy) -> Step:
    """Write one step of a rollout down; returns the rollout's control block."""
    control: Control = yield from retry.call(listener, RECORD, step, policy)
    return control


def wait_for_control(
    listener: Listener, ref: RolloutRef, policy: RetryPolicy, until: datetime | None = None
) -> Step:
    """Sleep until an operator changes something (or `until`); the fresh control block, or
    None when `until` passed first."""
    listener.take(CONTROL_EVENT)
    wake = until or listener.context.current_utc_datetime + IDLE_WAIT
    woke = yield from listener.sleep(wake, wake_on=(CONTROL_EVENT,))
    if not woke and until is not None:
        return None
    control: Control = yield from read_control(listener, ref, policy)
    return control


def read_control(listener: Listener, ref: RolloutRef, policy: RetryPolicy) -> Step:
    control: Control = yield from retry.call(listener, READ_CONTROL, ref, policy)
    return control
