"""The orchestrations: their names, the events raised to them, their inputs and outputs.

Triggers start the track orchestrator and raise events to it (and to rollouts and waves);
orchestrators start each other. Everything here is plain data on the durable wire.
"""

import re
from typing import NotRequired, TypedDict

from shared.contracts.activities import NON_RETRYABLE, Counts, RestoreResult

TRACK = "track_orchestrator"
ROLLOUT = "rollout_orchestrator"
WAVE = "wave_orchestrator"

CONTROL_EVENT = "control"
"""Raised to a rollout and its running wave when an operator changes the rollout's control."""
HEALTH_EVENT = "health"
"""Raised to a wave when Flux reports on one of its clusters: look again now."""
REVISION_EVENT = "revision"
"""Raised to a track orchestrator with a new `RevisionRequest`."""


class RetryPolicy(TypedDict):
    """From the app settings `ARCWAVE_RETRY_*` (docs/settings.md), passed in with each job."""

    firstSeconds: float
    maxIntervalSeconds: float
    horizonSeconds: float


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


class RolloutJob(TypedDict):
    rolloutId: str
    track: str
    revision: str
    trigger: dict[str, str]
    timing: Timing
    clusters: list[str] | None
    """A catch-up of these clusters only."""
    recover: NotRequired[str]
    """Close the rollout instead of running it: its orchestration ended this way."""


class RolloutOutcome(TypedDict):
    rolloutId: str
    state: str
    reason: str


class WaveJob(TypedDict):
    rolloutId: str
    track: str
    revision: str
    wave: str
    timing: Timing
    mode: str
    """`rollout` or `restore`."""
    traceparent: NotRequired[str]
    """The rollout's hand-over trace context (`shared.contracts.activities.TRACEPARENT`)."""


class WaveOutcome(TypedDict):
    counts: Counts
    stopped: str | None
    """`aborted` or `superseded` when the wave stopped early."""
    restore: RestoreResult | None
    """What a rollback did, by kind (`mode: restore`)."""
    failure: str | None
    """A step failed for good: the wave ended without a verdict (`StepFailed`'s text)."""
    failures: Counts
    """Failed clusters by `Reason` value."""


_PREFIX = re.compile(r"^(Activity|Orchestrator) function '[^']*' failed:\s*")
_MARK = re.compile(rf"^(NonRetryableError:\s*)?{NON_RETRYABLE}:\s*")


def failure_text(failure: BaseException | str, limit: int = 300) -> str:
    """One readable line from a durable task failure (`"{Reason} \\n {Details}"`).

    devhost and Azure word the reason differently (`Activity function 'x' failed: T: msg`;
    the Python worker adds `Exception: T: msg` and a stack), so this keeps the exception's own
    line and drops the wrapping.
    """
    text = str(failure)
    marker = text.find("Exception: ")
    line = text[marker + len("Exception: ") :] if marker >= 0 else text
    line = line.strip().splitlines()[0] if line.strip() else "failed"
    line = _MARK.sub("", _PREFIX.sub("", line.strip()))
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
