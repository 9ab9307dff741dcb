"""The wave orchestrator: apply a wave in its batches, then watch it until it settles.

    for each batch: apply (held while the rollout is paused; stopped if aborted/superseded)
    watch: observe every poll interval — sooner when Flux says something — until every
           cluster is Healthy, Failed, Skipped or Offline-failed, or the deadline turns the
           rest into failures

The same orchestration watches a rollback (`mode: restore`): restore the wave's clusters,
then watch each against its own restore target. Its history grows with batches and polls of
one wave only; cluster ids never enter it.
"""

from datetime import datetime, timedelta
from typing import TypedDict

import azure.durable_functions as df

from activities.contracts import (
    APPLY,
    OBSERVE,
    RESTORE,
    ApplyResult,
    BatchRef,
    Counts,
    ObserveRequest,
    ObserveResult,
    RolloutRef,
    held_reason,
)
from orchestrators.common import (
    ACTIVITY_RETRY,
    CONTROL_EVENT,
    HEALTH_EVENT,
    WAVE,
    Listener,
    Step,
    wait_for_control,
)

bp = df.Blueprint()


class WaveJob(TypedDict):
    rolloutId: str
    track: str
    revision: str
    wave: str
    batches: int
    deadline: str
    """ISO 8601 UTC: clusters not settled by then fail with ProgressDeadlineExceeded."""
    pollSeconds: float
    mode: str
    """`rollout` or `restore`."""


class WaveOutcome(TypedDict):
    counts: Counts
    stopped: str | None
    """`aborted` or `superseded` when the wave stopped early at a safe point."""


@bp.orchestration_trigger(context_name="context", orchestration=WAVE)
def wave_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    job: WaveJob = context.get_input()
    ref = RolloutRef(rolloutId=job["rolloutId"], track=job["track"], revision=job["revision"])
    listener = Listener(context, HEALTH_EVENT, CONTROL_EVENT)
    stopped: str | None = None
    if job["mode"] == "restore":
        restore = context.call_activity_with_retry(
            RESTORE, ACTIVITY_RETRY, {**ref, "wave": job["wave"]}
        )
        yield from listener.call(restore)
    else:
        for batch in range(job["batches"]):
            context.set_custom_status(
                {"wave": job["wave"], "batch": batch + 1, "of": job["batches"]}
            )
            applied: ApplyResult = yield from apply_when_free(
                listener, {**ref, "wave": job["wave"], "batch": batch}
            )
            if applied["held"]:
                stopped = applied["held"]
                break
    outcome: WaveOutcome = yield from watch(listener, job, ref)
    return WaveOutcome(counts=outcome["counts"], stopped=stopped or outcome["stopped"])


def apply_when_free(listener: Listener, batch: BatchRef) -> Step:
    """Apply one batch; while the rollout is paused, wait for the operator, then try again."""
    context = listener.context
    while True:
        task = context.call_activity_with_retry(APPLY, ACTIVITY_RETRY, batch)
        result: ApplyResult = yield from listener.call(task)
        if result["held"] != "paused":
            return result
        context.set_custom_status(
            {"wave": batch["wave"], "batch": batch["batch"] + 1, "held": "paused"}
        )
        while True:
            control = yield from wait_for_control(listener, batch)
            if held_reason(control) != "paused":
                break


def watch(listener: Listener, job: WaveJob, ref: RolloutRef) -> Step:
    """Observe until the wave settles, waking on each poll, Flux hint or operator command."""
    context = listener.context
    deadline = datetime.fromisoformat(job["deadline"])
    while True:
        now = context.current_utc_datetime
        request = ObserveRequest(
            **ref, wave=job["wave"], deadlinePassed=now >= deadline, recheck=False
        )
        listener.take(HEALTH_EVENT)
        listener.take(CONTROL_EVENT)
        task = context.call_activity_with_retry(OBSERVE, ACTIVITY_RETRY, request)
        observed: ObserveResult = yield from listener.call(task)
        context.set_custom_status({"wave": job["wave"], "counts": observed["counts"]})
        if observed["settled"]:
            return WaveOutcome(counts=observed["counts"], stopped=None)
        held = held_reason(observed["control"])
        if job["mode"] != "restore" and held in ("aborted", "superseded"):
            return WaveOutcome(counts=observed["counts"], stopped=held)
        wake_at = now + timedelta(seconds=job["pollSeconds"])
        if deadline > now:
            wake_at = min(wake_at, deadline)  # judge the deadline on time
        yield from listener.sleep(wake_at, wake_on=(HEALTH_EVENT, CONTROL_EVENT))
