"""The track orchestrator: one per track (`track:<name>`), eternal, one rollout at a time.

    wait for a revision (unless one is already queued)
    run its rollout as a sub-orchestration, meanwhile taking newer requests:
        supersede: queue   — keep only the newest revision; it runs when this rollout ends
        supersede: restart — the same, and ask the running rollout to stop at its next safe point
        catch-ups          — queue in order; they never replace or stop anything
    continue as new with whatever is queued

Serialising rollouts here needs no locks: revisions are events on one instance.
"""

from typing import TypedDict

import azure.durable_functions as df

from activities.contracts import ProgressRecord
from orchestrators.common import (
    REVISION_EVENT,
    ROLLOUT,
    TRACK,
    Listener,
    RevisionRequest,
    Step,
    record,
)
from orchestrators.rollout import RolloutJob
from shared.reasons import Reason
from shared.states import RolloutState

bp = df.Blueprint()


class TrackState(TypedDict):
    track: str
    queue: list[RevisionRequest]
    seen: list[str]
    """Rollout ids already taken, newest last: a re-sent request is not run twice."""


SEEN_KEPT = 50


@bp.orchestration_trigger(context_name="context", orchestration=TRACK)
def track_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    state: TrackState = context.get_input() or TrackState(
        track=context.instance_id.removeprefix("track:"), queue=[], seen=[]
    )
    track, queue, seen = state["track"], list(state["queue"]), list(state["seen"])
    listener = Listener(context, REVISION_EVENT)
    running: RevisionRequest | None = None

    def receive() -> Step:
        """Queue what arrived: catch-ups in order; a revision replaces queued revisions."""
        for newer in listener.take(REVISION_EVENT):
            known = {q["rolloutId"] for q in queue} | set(seen)
            if newer["rolloutId"] in known:
                continue  # a re-sent request
            if newer.get("clusters"):
                queue.append(newer)
                continue
            for older in [q for q in queue if not q.get("clusters")]:
                queue.remove(older)
                yield from _mark(listener, track, older, f"{newer['revision'][:7]} is newer")
            queue.append(newer)
            if newer["supersede"] == "restart" and running and not running.get("clusters"):
                yield from _stop(listener, track, running, newer)

    while not queue:
        context.set_custom_status({"track": track, "idle": True})
        yield from listener.listen()
        yield from receive()
    running = queue.pop(0)
    seen = [*seen, running["rolloutId"]][-SEEN_KEPT:]
    context.set_custom_status(
        {"track": track, "rolloutId": running["rolloutId"], "revision": running["revision"]}
    )
    job = RolloutJob(
        rolloutId=running["rolloutId"],
        track=track,
        revision=running["revision"],
        trigger=running["trigger"],
        pollSeconds=running["pollSeconds"],
        clusters=running.get("clusters"),
    )
    rollout = context.call_sub_orchestrator(ROLLOUT, job, running["rolloutId"])
    while not (yield from listener.race(rollout)):
        yield from receive()
    yield from receive()
    context.continue_as_new(TrackState(track=track, queue=queue, seen=seen))


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
            message=f"{newer['revision'][:7]} supersedes it; stopping at a safe point",
            control={"superseded": True},
        ),
    )
