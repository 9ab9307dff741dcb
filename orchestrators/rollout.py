"""The rollout orchestrator: one revision across a track's fleet, wave by wave.

    plan the fleet (the track spec is snapshotted: this rollout runs the spec it was planned with)
    for each wave, in order:
        safe point: hold while paused; stop if aborted, superseded or failed by an alert
        approval gate, when the wave asks for one (an optional timeout aborts)
        run the wave (its in-flight window; nothing more is written once its budget is spent)
        judge it against its failure budget, then against its metric gates (Azure Monitor)
        soak, then look again: a cluster that regressed counts as failed; the gates again
    all waves passed: the revision becomes last good
    a wave failed: roll back what this rollout changed (onFailure: rollback) or halt
    a step failed for good (retries ran out, or the error is permanent): record Failed with the
        step and the error, then roll back or halt the same way

Started with `recover`, it closes a rollout whose own orchestration ended without recording
its end: it records Failed (OrchestrationLost) and applies onFailure to what that rollout had
changed. Every decision is recorded with its reason; orchestrations pass names and counts only.
"""

from datetime import timedelta

import azure.durable_functions as df

from orchestrators import retry
from orchestrators.closing import Closing
from orchestrators.gates import APPLIED, SOAKED, judge_metric_gates
from orchestrators.listener import Step
from orchestrators.retry import StepFailed
from orchestrators.rollout_steps import Stop, count
from orchestrators.steps import read_control, wait_for_control
from shared.alerts import pause_reason
from shared.contracts.activities import (
    OBSERVE,
    PLAN,
    Hold,
    ObserveRequest,
    ObserveResult,
    PlanRequest,
    PlanResult,
    WaveBrief,
    hold,
    stops,
)
from shared.contracts.orchestrations import ROLLOUT, RolloutJob, WaveJob
from shared.events import EventType
from shared.gates import judge
from shared.names import wave_instance
from shared.quantities import CountOrPercent
from shared.reasons import Reason
from shared.revision import short_revision
from shared.states import RolloutState, WaveState

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=ROLLOUT)
def rollout_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    job: RolloutJob = context.get_input()
    run = Run(context, job)
    if "recover" in job:
        outcome = yield from run.recover(job["recover"])
        return outcome
    try:
        outcome = yield from run.execute()
    except StepFailed as failure:
        try:
            outcome = yield from run.give_up(failure)
        except StepFailed as closing:
            # Nothing can be recorded now: fail, naming the first cause, for the track's
            # recovery (or the reconciliation) to close the rollout with.
            raise StepFailed.relayed(f"{failure}; then recording that failed: {closing}") from None
    return outcome


class Run(Closing):
    """The runbook of one rollout, step by step (the module docstring); how it ends when it
    does not succeed is `Closing`'s."""

    def execute(self) -> Step:
        job = self.job
        yield from self.step(
            "started",
            Reason.ROLLOUT_STARTED,
            f"rolling out {short_revision(job['revision'])}",
            state=RolloutState.RUNNING,
            event=EventType.ROLLOUT_STARTED,
            revision=job["revision"],
            trigger=job["trigger"],
            clusters=job.get("clusters"),
        )
        request = PlanRequest(
            rolloutId=job["rolloutId"], track=job["track"], revision=job["revision"]
        )
        if "traceparent" in self.ref:
            request["traceparent"] = self.ref["traceparent"]
        if job.get("clusters"):
            request["clusters"] = job["clusters"] or []
        plan: PlanResult = yield from retry.call(
            self.listener, PLAN, request, self.policy, scope="plan"
        )
        self.on_failure = plan["onFailure"]
        total = sum(w["clusters"] for w in plan["waves"])
        yield from self.step(
            "planned",
            Reason.PLANNED,
            f"{count(total, 'cluster')} in {count(len(plan['waves']), 'wave')}, "
            f"{plan['excluded']} excluded, "
            f"{plan['unassigned']} unassigned",
        )
        try:
            for index, wave in enumerate(plan["waves"]):
                self.context.set_custom_status(
                    {"wave": wave["name"], "index": index + 1, "of": len(plan["waves"])}
                )
                if wave["clusters"] == 0:
                    yield from self.wave_step(
                        wave, "empty", Reason.WAVE_SUCCEEDED, "no clusters", WaveState.SKIPPED
                    )
                    continue
                yield from self.safe_point()
                if wave["approval"]:
                    yield from self.approval_gate(wave)
                counts, failures = yield from self.run_wave(wave)
                budget = CountOrPercent.parse(wave["maxFailures"])
                verdict = judge(counts, budget, failures)
                verdict = yield from judge_metric_gates(self, wave, APPLIED, verdict)
                if verdict.passed and wave["soakSeconds"] > 0:
                    counts, failures = yield from self.soak(wave)
                    verdict = judge(counts, budget, failures)
                    verdict = yield from judge_metric_gates(self, wave, SOAKED, verdict)
                state, event = (
                    (WaveState.SUCCEEDED, EventType.WAVE_SUCCEEDED)
                    if verdict.passed
                    else (WaveState.FAILED, EventType.WAVE_FAILED)
                )
                yield from self.wave_step(
                    wave,
                    "succeeded" if verdict.passed else "failed",
                    verdict.reason,
                    verdict.message,
                    state,
                    counts=counts,
                    event=event,
                )
                if not verdict.passed:
                    outcome = yield from self.fail(wave["name"], verdict.message, verdict.reason)
                    return outcome
        except Stop as stop:
            outcome = yield from self.stopped(stop)
            return outcome
        yield from self.step(
            "succeeded",
            Reason.ROLLOUT_SUCCEEDED,
            f"{short_revision(job['revision'])} rolled out over "
            f"{count(len(plan['waves']), 'wave')}",
            state=RolloutState.SUCCEEDED,
            event=EventType.ROLLOUT_SUCCEEDED,
            # A catch-up brings clusters to a revision; it never moves the track's last good.
            advanceLastGood="clusters" if job.get("clusters") else True,
        )
        return self.outcome(RolloutState.SUCCEEDED, Reason.ROLLOUT_SUCCEEDED)

    def safe_point(self) -> Step:
        """Hold here while paused; raise `Stop` when aborted or superseded."""
        control = self.control or (yield from read_control(self.listener, self.ref, self.policy))
        while True:
            held = hold(control)
            if held is not None and held.stops:
                raise Stop.held(held)
            if held is not Hold.PAUSED:
                return
            self.pauses += 1
            by = control.get("pausedBy")
            yield from self.step(
                f"paused/{self.pauses}",
                pause_reason(by),
                f"paused by {by or 'an operator'}",
                state=RolloutState.PAUSED,
            )
            while hold(control) is Hold.PAUSED:
                control = yield from wait_for_control(self.listener, self.ref, self.policy)
            if hold(control) is None:
                control = yield from self.step(
                    f"resumed/{self.pauses}",
                    Reason.RESUMED,
                    "resumed",
                    state=RolloutState.RUNNING,
                )

    def approval_gate(self, wave: WaveBrief) -> Step:
        """Wait for an operator to approve `wave`; a timeout aborts the rollout."""
        name = wave["name"]
        control = yield from self.wave_step(
            wave,
            "approval",
            Reason.AWAITING_APPROVAL,
            f"wave '{name}' waits for approval",
            WaveState.WAITING_FOR_APPROVAL,
            state=RolloutState.WAITING_FOR_APPROVAL,
            event=EventType.APPROVAL_REQUESTED,
        )
        timeout = wave["approvalTimeoutSeconds"]
        give_up = (
            self.context.current_utc_datetime + timedelta(seconds=timeout) if timeout else None
        )
        while name not in control["approvals"]:
            stopping = stops(control)
            if stopping is not None:
                raise Stop.held(stopping)
            fresh = yield from wait_for_control(self.listener, self.ref, self.policy, give_up)
            if fresh is None:
                raise Stop(Reason.APPROVAL_TIMED_OUT)
            control = fresh
        self.control = yield from self.wave_step(
            wave,
            "approved",
            Reason.APPROVED,
            f"wave '{name}' approved by {control['approvals'][name]}",
            WaveState.PENDING,
            state=RolloutState.RUNNING,
        )

    def run_wave(self, wave: WaveBrief) -> Step:
        name = wave["name"]
        per_site = f", {wave['maxPerSite']} per site" if wave["maxPerSite"] else ""
        yield from self.wave_step(
            wave,
            "started",
            Reason.WAVE_STARTED,
            f"writing {short_revision(self.job['revision'])} to wave '{name}' "
            f"({count(wave['clusters'], 'cluster')}, at most {wave['maxInFlight']} "
            f"in flight{per_site})",
            WaveState.APPLYING,
            state=RolloutState.RUNNING,
            event=EventType.WAVE_STARTED,
        )
        self.changed.append(name)
        job = WaveJob(**self.ref, wave=name, timing=self.job["timing"], mode="rollout")
        outcome = yield from self.wave(job, wave_instance(self.job["rolloutId"], name))
        if outcome["failure"]:
            raise StepFailed.relayed(outcome["failure"])
        if outcome["stopped"]:
            raise Stop.held(Hold(outcome["stopped"]))
        return outcome["counts"], outcome["failures"]

    def soak(self, wave: WaveBrief) -> Step:
        """Wait out the soak time (an abort cuts it short), then look at the wave again."""
        name = wave["name"]
        yield from self.wave_step(
            wave,
            "soaking",
            Reason.SOAKING,
            f"wave '{name}' healthy; soaking {wave['soakSeconds']:g}s",
            WaveState.SOAKING,
        )
        end = self.context.current_utc_datetime + timedelta(seconds=wave["soakSeconds"])
        while True:
            control = yield from wait_for_control(self.listener, self.ref, self.policy, end)
            if control is None:
                break
            stopping = stops(control)
            if stopping is not None:
                raise Stop.held(stopping)
        request = ObserveRequest(**self.ref, wave=name, recheck=True)
        observed: ObserveResult = yield from retry.call(
            self.listener, OBSERVE, request, self.policy, scope=f"soak of wave '{name}'"
        )
        return observed["counts"], observed["failures"]
