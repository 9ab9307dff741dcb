"""The activities: their names, inputs and outputs, and the control block they hand back.

Orchestrators call activities by these names with these payloads; activities implement them
(activities/). Inputs and outputs are small JSON objects (ids, names, counts) — never fleet
lists — so histories stay small however large the fleet.
"""

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

PLAN = "plan_rollout"
ADVANCE = "advance_wave"
OBSERVE = "observe_wave"
RESTORE = "restore_wave"
UNRESTORED = "mark_unrestored"
RECORD = "record_progress"
READ_CONTROL = "read_control"
RECOVERY = "read_recovery"
METRIC_GATES = "check_metric_gates"

NON_RETRYABLE = "non-retryable"
"""Marks an activity error that trying again cannot fix (`NonRetryableError`): the step fails
at once instead of being retried over the horizon."""


class NonRetryableError(Exception):
    """An activity failed in a way retries cannot fix (a permanent ARM or store error)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{NON_RETRYABLE}: {message}")


class Hold(StrEnum):
    """Why a rollout writes nothing new now, as its control block says."""

    SUPERSEDED = "superseded"
    """A newer revision replaces it: stop at the next safe point."""
    ABORTED = "aborted"
    """An operator aborted it: stop at the next safe point."""
    FAILED = "failed"
    """An alert failed it (`Control.fail`): stop at the next safe point, then `onFailure`."""
    PAUSED = "paused"
    """An operator paused it: wait for a resume."""

    @property
    def stops(self) -> bool:
        """Whether the rollout ends (rather than waits)."""
        return self is not Hold.PAUSED


Counts = dict[str, int]
"""Clusters per `ClusterState` (or `Reason`) value."""


def failure_reasons(records: "Iterable[Any]") -> Counts:
    """Failed clusters by the reason they failed (records with `state` and `reason`)."""
    counted: Counter[str] = Counter(
        r.reason.value for r in records if r.state.counts_as_failure and r.reason is not None
    )
    return dict(counted)


TRACEPARENT = "traceparent"
"""The W3C trace context of the span that handed a rollout over, as a string: a trigger puts it
into the rollout's `trigger`, the orchestrators copy it into every activity's request (a copy,
nothing more: they stay deterministic), and each activity's span links to it."""
ATTEMPT = "attempt"
"""The attempt of a retried activity call (2, 3...; absent on the first): on its span."""


class RolloutRef(TypedDict):
    rolloutId: str
    track: str
    revision: str
    traceparent: NotRequired[str]
    """`TRACEPARENT`: the hand-over's trace context, when it was traced."""


def rollout_ref(job: RolloutRef) -> RolloutRef:
    """Just the reference to a rollout, out of a rollout's or a wave's job (with the trace
    context of its hand-over, when it has one)."""
    ref = RolloutRef(rolloutId=job["rolloutId"], track=job["track"], revision=job["revision"])
    if TRACEPARENT in job:
        ref["traceparent"] = job["traceparent"]
    return ref


def traced_ref(rollout_id: str, track: str, revision: str, trigger: dict[str, str]) -> RolloutRef:
    """The reference to a rollout, with the trace context its `trigger` carries, if any."""
    ref = RolloutRef(rolloutId=rollout_id, track=track, revision=revision)
    if trigger.get(TRACEPARENT):
        ref["traceparent"] = trigger[TRACEPARENT]
    return ref


class PlanRequest(RolloutRef, total=False):
    clusters: list[str]
    """A catch-up: only these clusters, in one wave named `catch-up`."""


class WaveBrief(TypedDict):
    """One wave of the plan with the policy that judges it (from the spec at plan time)."""

    name: str
    clusters: int
    maxInFlight: int
    """Clusters of the wave between their write and their verdict at any instant."""
    maxPerSite: int | None
    offline: int
    maxFailures: str | int
    soakSeconds: float
    approval: bool
    approvalTimeoutSeconds: float | None
    metricGates: NotRequired[list[str]]
    """The metric gates judged when the wave has applied and after its soak (names)."""


class PlanResult(TypedDict):
    waves: list[WaveBrief]
    excluded: int
    unassigned: int
    previousRevision: str | None
    onFailure: str
    """`rollback` or `halt`."""


class WaveRef(RolloutRef):
    wave: str


class MetricGateRequest(WaveRef):
    phase: str
    """`applied` (the wave's writes settled) or `soaked` (after its soak)."""


class MetricGateResult(TypedDict):
    """The wave's metric gates at one phase; each gate's verdict is on the timeline."""

    passed: bool
    """No gate failed (a skipped gate does not stop the wave)."""
    failed: list[str]
    skipped: list[str]
    message: str
    """The failed gates' messages with their numbers (empty when none failed)."""


class Control(TypedDict):
    """What operators and the track asked of a running rollout (kept in its record)."""

    paused: bool
    abort: bool
    rollback: bool
    superseded: bool
    approvals: dict[str, str]
    """Wave name → who approved it."""
    pausedBy: NotRequired[str | None]
    """Who paused it: an operator's name, or `alert:<rule>`."""
    fail: NotRequired[str | None]
    """An alert failed it: why, as its end records it (reason AlertFired)."""


class AdvanceResult(TypedDict):
    """One step of a wave's window: verdicts recorded, then free slots filled."""

    counts: Counts
    inFlight: int
    """Written and not yet settled (Applying, Progressing, Offline waiting)."""
    pending: int
    """Not written yet."""
    written: int
    """Written by this step."""
    held: Hold | None
    """No new writes because the rollout is paused, aborted or superseded."""
    budgetSpent: bool
    """More clusters failed than the wave's budget allows: nothing more is written."""
    settled: bool
    """Nothing in flight and nothing more to write: the wave can be judged."""
    failures: Counts
    """Failed clusters by `Reason` value: why the wave's failures failed."""
    control: Control
    outsideWindows: NotRequired[int]
    """Pending clusters not written because their maintenance windows are closed now."""
    nextOpening: NotRequired[str | None]
    """With `outsideWindows`: when the first of them may be written (UTC, `format_time`), so
    the wave sleeps until then at most; None when their windows never open together."""
    nextLookIn: NotRequired[float]
    """Nothing is left to write and clusters are in flight: seconds until the wave should look
    again, sooner than its poll when their verdicts are near (`shared.cadence`)."""


class ObserveRequest(RolloutRef):
    wave: str
    recheck: bool
    """After soak: clusters that were Healthy must still be, or they count as failed."""


class ObserveResult(TypedDict):
    counts: Counts
    settled: bool
    """No cluster of the wave is still on its way (Applying, Progressing, or Offline waiting)."""
    failures: Counts
    """Failed clusters by `Reason` value."""
    control: Control
    nextLookIn: NotRequired[float]
    """Clusters are in flight (not after soak): when to look again, as in `AdvanceResult`."""


RestoreRequest = WaveRef


class RestoreResult(TypedDict):
    restored: int
    """Put back on their last good revision."""
    reinstated: int
    """Given back the configuration arcwave found before its first write."""
    removed: int
    """Configurations arcwave created, deleted."""
    failed: int
    outsideWindows: NotRequired[int]
    """Clusters left to restore later: their maintenance windows are closed now."""
    nextOpening: NotRequired[str | None]
    """With `outsideWindows`: when the first of them may be restored (as in `AdvanceResult`)."""


def describe_restore(result: RestoreResult) -> str:
    """`2 back on their last good revision, 1 removed (arcwave created them)`."""
    parts = []
    if result["restored"]:
        parts.append(f"{result['restored']} back on their last good revision")
    if result["reinstated"]:
        parts.append(f"{result['reinstated']} given the configuration found before arcwave")
    if result["removed"]:
        parts.append(f"{result['removed']} removed (arcwave created them)")
    if result["failed"]:
        parts.append(f"{result['failed']} could not be written")
    return ", ".join(parts) or "nothing to restore"


class UnrestoredRequest(WaveRef):
    error: str
    """Why the rollback of the wave could not run, for each cluster left unrestored."""


class RecoveryBrief(TypedDict):
    """What closing a rollout whose orchestration ended needs to know (read from the store)."""

    state: str
    """The rollout's recorded state."""
    changed: list[str]
    """Waves with clusters this rollout wrote, in plan order."""
    onFailure: str


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
    clusters: list[str] | None
    """With `trigger`: a catch-up's clusters."""
    traceparent: str
    """`TRACEPARENT`: the hand-over's trace context, when it was traced."""


def hold(control: Control) -> Hold | None:
    """Why no new write may start (the strongest reason first); None when free."""
    if control["superseded"]:
        return Hold.SUPERSEDED
    if control["abort"]:
        return Hold.ABORTED
    if control.get("fail"):
        return Hold.FAILED
    if control["paused"]:
        return Hold.PAUSED
    return None


def stops(control: Control) -> Hold | None:
    """The reason the rollout must end at its next safe point; None when it may go on."""
    held = hold(control)
    return held if held is not None and held.stops else None
