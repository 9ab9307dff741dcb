"""What orchestrators may know about activities: their names, inputs and outputs.

Orchestrators import this module and nothing else from `activities`, so they never pull in an
adapter. Inputs and outputs are small JSON objects (ids, names, counts) — never fleet lists —
so histories stay small however large the fleet.
"""

from typing import TypedDict

PLAN = "plan_rollout"
APPLY = "apply_batch"
OBSERVE = "observe_wave"
RESTORE = "restore_wave"
RECORD = "record_progress"
READ_CONTROL = "read_control"
PUBLISH = "publish_event"

Counts = dict[str, int]
"""Clusters per `ClusterState` value."""


class RolloutRef(TypedDict):
    rolloutId: str
    track: str
    revision: str


class PlanRequest(RolloutRef, total=False):
    clusters: list[str]
    """A catch-up: only these clusters, in one wave named `catch-up`."""


class WaveBrief(TypedDict):
    """One wave of the plan with the policy that judges it (from the spec at plan time)."""

    name: str
    clusters: int
    batches: int
    offline: int
    maxFailures: str | int
    soakSeconds: float
    approval: bool
    approvalTimeoutSeconds: float | None


class PlanResult(TypedDict):
    waves: list[WaveBrief]
    excluded: int
    unassigned: int
    previousRevision: str | None
    progressDeadlineSeconds: float
    onFailure: str
    """`rollback` or `halt`."""


class BatchRef(RolloutRef):
    wave: str
    batch: int


class Control(TypedDict):
    """What operators and the track asked of a running rollout (kept in its record)."""

    paused: bool
    abort: bool
    rollback: bool
    superseded: bool
    approvals: dict[str, str]
    """Wave name → who approved it."""


class ApplyResult(TypedDict):
    applied: int
    failed: int
    skipped: int
    held: str | None
    """Not applied because the rollout is `paused`, `aborted` or `superseded`."""


class ObserveRequest(RolloutRef):
    wave: str
    deadlinePassed: bool
    recheck: bool
    """After soak: clusters that were Healthy must still be, or they count as failed."""


class ObserveResult(TypedDict):
    counts: Counts
    settled: bool
    """No cluster of the wave is still on its way (Applying, Progressing, or Offline waiting)."""
    control: Control


class RestoreRequest(RolloutRef):
    wave: str


class RestoreResult(TypedDict):
    restored: int
    removed: int
    failed: int


class ProgressRecord(TypedDict, total=False):
    rolloutId: str
    track: str
    key: str
    """Names the step within the rollout, so a retried activity writes its entry once."""
    actor: str
    reason: str
    message: str
    state: str
    """A new `RolloutState`, when the rollout changes state."""
    wave: str
    waveState: str
    counts: Counts
    event: str
    """An `EventType` to publish with this step."""
    data: dict[str, object]
    advanceLastGood: bool | str
    """The rollout succeeded: the revision becomes last good for the track and its clusters
    (`"clusters"`: for its clusters only, as after a catch-up)."""
    control: dict[str, object]
    """Changes to the rollout's control block (e.g. `{"superseded": true}`)."""
    revision: str
    trigger: dict[str, str]
    """With `revision`: create the rollout record when it does not exist yet."""


def held_reason(control: Control) -> str | None:
    """Why no new write may start: `superseded`, `aborted` or `paused`; None when free."""
    if control["superseded"]:
        return "superseded"
    if control["abort"]:
        return "aborted"
    if control["paused"]:
        return "paused"
    return None
