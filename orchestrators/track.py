"""The track orchestrator: one per track (`track:<name>`), eternal, one rollout at a time.

    wait for a revision (unless one is already queued)
    run its rollout as a sub-orchestration, meanwhile taking newer requests:
        supersede: queue   — keep only the newest revision; it runs when this rollout ends
        supersede: restart — the same, and ask the running rollout to stop at its next safe point
        catch-ups and recoveries — queue in order; they never replace or stop anything
    a rollout whose orchestration failed or was terminated has ended: close it (a recovery:
        Failed, and its onFailure applied to what it changed), then go on
    continue as new with whatever is queued

Serialising rollouts here needs no locks: revisions are events on one instance. Nothing that
happens to a rollout stops the track: its own steps never fail it, so the next revision runs.
"""

from typing import TypedDict

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskState

from orchestrators.listener import Listener, Step
from orchestrators.retry import StepFailed
from orchestrators.steps import record
from shared.contracts.activities import TRACEPARENT, ProgressRecord
from shared.contracts.orchestrations import (
    REVISION_EVENT,
    ROLLOUT,
    TRACK,
    RevisionRequest,
    RolloutJob,
    failure_text,
)
from shared.names import recovery_instance
from shared.queue import Received, TrackQueue
from shared.reasons import Reason
from shared.revision import short_revision
from shared.states import RolloutState

bp = df.Blueprint()


class TrackState(TypedDict):
    track: str
    queue: list[RevisionRequest]
    seen: list[str]
    """Requests already taken (`shared.queue.request_key`), newest last."""


@bp.orchestration_trigger(context_name="context", orchestration=TRACK)
def track_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    state: TrackState = context.get_input() or TrackState(
        track=context.instance_id.removeprefix("track:"), queue=[], seen=[]
    )
    track = state["track"]
    pending = TrackQueue(queue=list(state["queue"]), seen=list(state["seen"])).kept()
    listener = Listener(context, REVISION_EVENT)
    running: RevisionRequest | None = None

    def receive() -> Step:
        """Queue what arrived, and write down what it replaced or stops."""
        received = pending.receive(listener.take(REVISION_EVENT), running)
        yield from _announce(listener, track, received, running)

    while not pending.queue:
        context.set_custom_status({"track": track, "idle": True})
        yield from listener.listen()
        yield from receive()
    running = pending.next()
    rid = running["rolloutId"]
    context.set_custom_status({"track": track, "rolloutId": rid, "revision": running["revision"]})
    job = RolloutJob(
        rolloutId=rid,
        track=track,
        revision=running["revision"],
        trigger=running["trigger"],
        timing=running["timing"],
        clusters=running.get("clusters"),
    )
    how = running.get("recover")
    if how is None:
        rollout = context.call_sub_orchestrator(ROLLOUT, job, rid)
        while not (yield from listener.race(rollout)):
            yield from receive()
        if rollout.state is TaskState.FAILED:
            how = f"it failed: {failure_text(rollout.result)}"
    if how is not None:
        # The rollout's orchestration ended without closing it: close it now. Should that
        # fail too, the reconciliation timer hands the rollout back here later.
        recovery = context.call_sub_orchestrator(
            ROLLOUT, RolloutJob(**job, recover=how), recovery_instance(rid)
        )
        while not (yield from listener.race(recovery)):
            yield from receive()
    yield from receive()
    kept = pending.kept()
    context.continue_as_new(TrackState(track=track, queue=kept.queue, seen=kept.seen))


def _announce(
    listener: Listener, track: str, received: Received, running: RevisionRequest | None
) -> Step:
    """Say on each rollout record what the revisions that arrived did to it: a queued revision
    replaced by a newer one never runs; a running one superseded stops at its safe point."""
    for older, newer in received.replaced:
        why = f"{short_revision(newer['revision'])} is newer"
        note = ProgressRecord(
            key="coalesced",
            message=f"never started: {why}",
            state=RolloutState.SUPERSEDED.value,
            revision=older["revision"],
            trigger=older["trigger"],
        )
        yield from _superseded(listener, track, older, note, older)
    stopping = received.stop_running
    if stopping is not None and running is not None:
        note = ProgressRecord(
            key=f"superseded-by/{stopping['rolloutId']}",
            message=f"{short_revision(stopping['revision'])} supersedes it; stopping at a safe "
            "point",
            control={"superseded": True},
        )
        yield from _superseded(listener, track, running, note, stopping)


def _superseded(
    listener: Listener,
    track: str,
    request: RevisionRequest,
    note: ProgressRecord,
    timing_of: RevisionRequest,
) -> Step:
    """Write `note` (reason Superseded) on `request`'s rollout record. It is the track's own
    bookkeeping: a failure to write it must not stop the track."""
    step = ProgressRecord(
        rolloutId=request["rolloutId"], track=track, reason=Reason.SUPERSEDED.value, **note
    )
    if request["trigger"].get(TRACEPARENT):
        step["traceparent"] = request["trigger"][TRACEPARENT]
    try:
        yield from record(listener, step, timing_of["timing"]["retry"])
    except StepFailed:
        return
