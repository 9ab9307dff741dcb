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
from orchestrators.common import REVISION_EVENT, ROLLOUT, TRACK, RevisionRequest, Step, record
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
    while not queue:
        context.set_custom_status({"track": track, "idle": True})
        request: RevisionRequest = yield context.wait_for_external_event(REVISION_EVENT)
        if request["rolloutId"] not in seen:
            queue.append(request)
    request = queue.pop(0)
    seen = [*seen, request["rolloutId"]][-SEEN_KEPT:]
    context.set_custom_status(
        {"track": track, "rolloutId": request["rolloutId"], "revision": request["revision"]}
    )
    job = RolloutJob(
        rolloutId=request["rolloutId"],
        track=track,
        revision=request["revision"],
        trigger=request["trigger"],
        pollSeconds=request["pollSeconds"],
        clusters=request.get("clusters"),
    )
    rollout = context.call_sub_orchestrator(ROLLOUT, job, request["rolloutId"])
    waiter = context.wait_for_external_event(REVISION_EVENT)
    while True:
        winner = yield context.task_any([rollout, waiter])
        if winner is rollout:
            break
        newer: RevisionRequest = waiter.result
        waiter = context.wait_for_external_event(REVISION_EVENT)
        if newer["rolloutId"] in seen or any(q["rolloutId"] == newer["rolloutId"] for q in queue):
            continue
        if newer.get("clusters"):
            queue.append(newer)  # catch-ups wait their turn; they never replace a revision
            continue
        for older in [q for q in queue if not q.get("clusters")]:
            queue.remove(older)
            yield from _mark(context, track, older, f"{newer['revision'][:7]} is newer")
        queue.append(newer)
        if newer["supersede"] == "restart" and not request.get("clusters"):
            yield from record(
                context,
                ProgressRecord(
                    rolloutId=request["rolloutId"],
                    track=track,
                    key=f"superseded-by/{newer['rolloutId']}",
                    reason=Reason.SUPERSEDED.value,
                    message=f"{newer['revision'][:7]} supersedes it; stopping at a safe point",
                    control={"superseded": True},
                ),
            )
    context.continue_as_new(TrackState(track=track, queue=queue, seen=seen))


def _mark(
    context: df.DurableOrchestrationContext, track: str, request: RevisionRequest, why: str
) -> Step:
    """A queued revision that will never run: say so on its own rollout record."""
    yield from record(
        context,
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
