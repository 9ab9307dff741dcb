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
    IDLE_WAIT,
    WAVE,
    Step,
    read_control,
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
    stopped: str | None = None
    if job["mode"] == "restore":
        yield context.call_activity_with_retry(
            RESTORE, ACTIVITY_RETRY, {**ref, "wave": job["wave"]}
        )
    else:
        for batch in range(job["batches"]):
            context.set_custom_status(
                {"wave": job["wave"], "batch": batch + 1, "of": job["batches"]}
            )
            applied: ApplyResult = yield from apply_when_free(
                context, {**ref, "wave": job["wave"], "batch": batch}
            )
            if applied["held"]:
                stopped = applied["held"]
                break
    outcome: WaveOutcome = yield from watch(context, job, ref)
    return WaveOutcome(counts=outcome["counts"], stopped=stopped or outcome["stopped"])


def apply_when_free(context: df.DurableOrchestrationContext, batch: BatchRef) -> Step:
    """Apply one batch; while the rollout is paused, wait for the operator, then try again."""
    control_waiter = context.wait_for_external_event(CONTROL_EVENT)
    while True:
        result: ApplyResult = yield context.call_activity_with_retry(APPLY, ACTIVITY_RETRY, batch)
        if result["held"] != "paused":
            return result
        context.set_custom_status(
            {"wave": batch["wave"], "batch": batch["batch"] + 1, "held": "paused"}
        )
        while True:
            timer = context.create_timer(context.current_utc_datetime + IDLE_WAIT)
            winner = yield context.task_any([control_waiter, timer])
            if winner is control_waiter:
                timer.cancel()
                control_waiter = context.wait_for_external_event(CONTROL_EVENT)
            control = yield from read_control(context, batch)
            if held_reason(control) != "paused":
                break


def watch(context: df.DurableOrchestrationContext, job: WaveJob, ref: RolloutRef) -> Step:
    """Observe until the wave settles, waking on each poll, Flux hint or operator command."""
    deadline = datetime.fromisoformat(job["deadline"])
    health_waiter = context.wait_for_external_event(HEALTH_EVENT)
    control_waiter = context.wait_for_external_event(CONTROL_EVENT)
    while True:
        now = context.current_utc_datetime
        request = ObserveRequest(
            **ref, wave=job["wave"], deadlinePassed=now >= deadline, recheck=False
        )
        observed: ObserveResult = yield context.call_activity_with_retry(
            OBSERVE, ACTIVITY_RETRY, request
        )
        context.set_custom_status({"wave": job["wave"], "counts": observed["counts"]})
        if observed["settled"]:
            return WaveOutcome(counts=observed["counts"], stopped=None)
        held = held_reason(observed["control"])
        if job["mode"] != "restore" and held in ("aborted", "superseded"):
            return WaveOutcome(counts=observed["counts"], stopped=held)
        wake_at = now + timedelta(seconds=job["pollSeconds"])
        if deadline > now:
            wake_at = min(wake_at, deadline)  # judge the deadline on time
        timer = context.create_timer(wake_at)
        winner = yield context.task_any([timer, health_waiter, control_waiter])
        if winner is health_waiter:
            health_waiter = context.wait_for_external_event(HEALTH_EVENT)
        elif winner is control_waiter:
            control_waiter = context.wait_for_external_event(CONTROL_EVENT)
        if winner is not timer:
            timer.cancel()
