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

from activities.contracts import ProgressRecord
from orchestrators.common import (
    REVISION_EVENT,
    ROLLOUT,
    TRACK,
    RevisionRequest,
    record,
)
from orchestrators.listener import Listener, Step
from orchestrators.retry import StepFailed, failure_text
from orchestrators.rollout import RolloutJob
from shared.names import recovery_instance
from shared.reasons import Reason
from shared.revision import short_revision
from shared.states import RolloutState

bp = df.Blueprint()


class TrackState(TypedDict):
    track: str
    queue: list[RevisionRequest]
    seen: list[str]
    """Requests already taken (`request_key`), newest last: a re-sent one is not run twice."""


SEEN_KEPT = 50


def request_key(request: RevisionRequest) -> str:
    """What makes a request new: its rollout, or for a recovery also what was found (a later
    look by the reconciliation is a new request)."""
    recover = request.get("recover")
    return request["rolloutId"] + (f":recover:{recover}" if recover else "")


@bp.orchestration_trigger(context_name="context", orchestration=TRACK)
def track_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    state: TrackState = context.get_input() or TrackState(
        track=context.instance_id.removeprefix("track:"), queue=[], seen=[]
    )
    track, queue, seen = state["track"], list(state["queue"]), list(state["seen"])[-SEEN_KEPT:]
    listener = Listener(context, REVISION_EVENT)
    running: RevisionRequest | None = None

    def receive() -> Step:
        """Queue what arrived: catch-ups and recoveries in order; a revision replaces queued
        revisions."""
        for newer in listener.take(REVISION_EVENT):
            known = {request_key(q) for q in queue} | set(seen)
            if request_key(newer) in known:
                continue  # a re-sent request
            if newer.get("clusters") or newer.get("recover"):
                queue.append(newer)
                continue
            for older in [q for q in queue if not _in_order(q)]:
                queue.remove(older)
                seen.append(request_key(older))  # never queued again, even when re-sent
                why = f"{short_revision(newer['revision'])} is newer"
                yield from _quietly(_mark(listener, track, older, why))
            queue.append(newer)
            if newer["supersede"] == "restart" and running and not _in_order(running):
                yield from _quietly(_stop(listener, track, running, newer))

    while not queue:
        context.set_custom_status({"track": track, "idle": True})
        yield from listener.listen()
        yield from receive()
    running = queue.pop(0)
    seen.append(request_key(running))
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
    context.continue_as_new(TrackState(track=track, queue=queue, seen=seen[-SEEN_KEPT:]))


def _in_order(request: RevisionRequest) -> bool:
    """Catch-ups and recoveries run in the order they came and never replace anything."""
    return bool(request.get("clusters") or request.get("recover"))


def _quietly(step: Step) -> Step:
    """Run one of the track's own bookkeeping steps; a failure must not stop the track."""
    try:
        yield from step
    except StepFailed:
        return


def _mark(listener: Listener, track: str, request: RevisionRequest, why: str) -> Step:
    """A queued revision that will never run: say so on its own rollout record."""
    yield from record(
        listener,
        ProgressRecord(
            rolloutId=request["rolloutId"],
            track=track,
            key="coalesced",
            reason=Reason.SUPERSEDED.value,
            message=f"never started: {why}",
            state=RolloutState.SUPERSEDED.value,
            revision=request["revision"],
            trigger=request["trigger"],
        ),
        request["timing"]["retry"],
    )


def _stop(listener: Listener, track: str, running: RevisionRequest, newer: RevisionRequest) -> Step:
    """supersede: restart — ask the running rollout to stop at its next safe point."""
    yield from record(
        listener,
        ProgressRecord(
            rolloutId=running["rolloutId"],
            track=track,
            key=f"superseded-by/{newer['rolloutId']}",
            reason=Reason.SUPERSEDED.value,
            message=f"{short_revision(newer['revision'])} supersedes it; stopping at a safe point",
            control={"superseded": True},
        ),
        newer["timing"]["retry"],
    )
