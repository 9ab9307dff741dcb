"""The rollout orchestrator: one revision across a track's fleet, wave by wave.

    plan the fleet (the track spec is snapshotted: this rollout runs the spec it was planned with)
    for each wave, in order:
        safe point: hold while paused; stop if aborted or superseded
        approval gate, when the wave asks for one (an optional timeout aborts)
        run the wave (its in-flight window; nothing more is written once its budget is spent)
        judge it against its failure budget
        soak, then look again: a cluster that regressed counts as failed
    all waves passed: the revision becomes last good
    a wave failed: roll back what this rollout changed (onFailure: rollback) or halt
    a step failed for good (retries ran out, or the error is permanent): record Failed with the
        step and the error, then roll back or halt the same way

Started with `recover`, it closes a rollout whose own orchestration ended without recording
its end: it records Failed (OrchestrationLost) and applies onFailure to what that rollout had
changed. Every decision is recorded with its reason; orchestrations pass names and counts only.
"""

from datetime import timedelta
from typing import NotRequired, TypedDict

import azure.durable_functions as df

from activities.contracts import (
    OBSERVE,
    PLAN,
    RECOVERY,
    UNRESTORED,
    Control,
    Counts,
    ObserveRequest,
    ObserveResult,
    PlanRequest,
    PlanResult,
    ProgressRecord,
    RecoveryBrief,
    RolloutRef,
    UnrestoredRequest,
    WaveBrief,
    describe_restore,
    held_reason,
)
from orchestrators import retry
from orchestrators.common import (
    CONTROL_EVENT,
    ROLLOUT,
    WAVE,
    Timing,
    read_control,
    record,
    wait_for_control,
)
from orchestrators.listener import Listener, Step
from orchestrators.retry import StepFailed, failure_text
from orchestrators.wave import WaveJob, WaveOutcome
from shared.events import EventType
from shared.gates import judge
from shared.names import wave_instance
from shared.quantities import CountOrPercent
from shared.reasons import Reason
from shared.revision import short_revision
from shared.states import ClusterState, RolloutState, WaveState

bp = df.Blueprint()


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


class Stop(Exception):
    """A safe point found the rollout must end: `kind` says why."""

    def __init__(self, kind: str, actor: str = "operator") -> None:
        super().__init__(kind)
        self.kind = kind
        self.actor = actor


def count(n: int, noun: str) -> str:
    """`1 wave`, `3 waves`, `2 clusters`."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}es" if noun.endswith(("ch", "s")) else f"{n} {noun}s"


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


class Run:
    """The steps of one rollout, as the runbook names them.

    Every yield goes through `listener`, which keeps the operator's `control` events from
    getting lost between waits; every activity call rides out outages (`orchestrators.retry`).
    """

    def __init__(self, context: df.DurableOrchestrationContext, job: RolloutJob) -> None:
        self.context = context
        self.job = job
        self.ref = RolloutRef(
            rolloutId=job["rolloutId"], track=job["track"], revision=job["revision"]
        )
        self.listener = Listener(context, CONTROL_EVENT)
        self.policy = job["timing"]["retry"]
        self.control: Control | None = None
        self.pauses = 0
        self.changed: list[str] = []
        """Waves this rollout began writing, in order."""
        self.on_failure = "halt"

    # -- the runbook ---------------------------------------------------------------------

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
        )
        request = PlanRequest(
            rolloutId=job["rolloutId"], track=job["track"], revision=job["revision"]
        )
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
                if verdict.passed and wave["soakSeconds"] > 0:
                    counts, failures = yield from self.soak(wave)
                    verdict = judge(counts, budget, failures)
                if not verdict.passed:
                    yield from self.wave_step(
                        wave,
                        "failed",
                        verdict.reason,
                        verdict.message,
                        WaveState.FAILED,
                        counts=counts,
                        event=EventType.WAVE_FAILED,
                    )
                    outcome = yield from self.fail(wave["name"], verdict.message)
                    return outcome
                yield from self.wave_step(
                    wave,
                    "succeeded",
                    verdict.reason,
                    verdict.message,
                    WaveState.SUCCEEDED,
                    counts=counts,
                    event=EventType.WAVE_SUCCEEDED,
                )
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

    def give_up(self, failure: StepFailed) -> Step:
        """A step failed for good: record it, then apply onFailure to what was changed."""
        why = str(failure)
        yield from self.step("step-failed", Reason.STEP_FAILED, why)
        outcome = yield from self.close_failed(why, Reason.STEP_FAILED)
        return outcome

    def recover(self, how: str) -> Step:
        """Close a rollout whose orchestration ended without recording its end."""
        brief: RecoveryBrief = yield from retry.call(
            self.listener, RECOVERY, self.ref, self.policy, scope="recovery"
        )
        if RolloutState(brief["state"]).is_terminal:
            return self.outcome(RolloutState(brief["state"]), Reason.ORCHESTRATION_LOST)
        self.changed = brief["changed"]
        self.on_failure = brief["onFailure"]
        why = f"its orchestration ended without recording the end ({how})"
        yield from self.step("orchestration-lost", Reason.ORCHESTRATION_LOST, why)
        outcome = yield from self.close_failed(why, Reason.ORCHESTRATION_LOST)
        return outcome

    def close_failed(self, why: str, reason: Reason) -> Step:
        if self.on_failure == "rollback" and self.changed:
            outcome = yield from self.roll_back(why, state=RolloutState.FAILED, reason=reason)
            return outcome
        left = "; halted, clusters left as they are" if self.changed else "; nothing was changed"
        outcome = yield from self.finish(
            RolloutState.FAILED, reason, f"{why}{left}", EventType.ROLLOUT_FAILED
        )
        return outcome

    def finish(
        self, state: RolloutState, reason: Reason, message: str, event: EventType, key: str = ""
    ) -> Step:
        """Record the rollout's end; its outcome."""
        yield from self.step(key or "finished", reason, message, state=state, event=event)
        return self.outcome(state, reason)

    # -- steps ---------------------------------------------------------------------------

    def step(self, key: str, reason: Reason, message: str, **fields: object) -> Step:
        step: ProgressRecord = {
            "rolloutId": self.job["rolloutId"],
            "track": self.job["track"],
            "key": key,
            "reason": reason.value,
            "message": message,
        }
        for name, value in fields.items():
            step[name] = getattr(value, "value", value)  # type: ignore[literal-required]
        self.control = yield from record(self.listener, step, self.policy)
        return self.control

    def wave_step(
        self,
        wave: WaveBrief,
        key: str,
        reason: Reason,
        message: str,
        wave_state: WaveState,
        *,
        counts: Counts | None = None,
        state: RolloutState | None = None,
        event: EventType | None = None,
    ) -> Step:
        fields: dict[str, object] = {"wave": wave["name"], "waveState": wave_state}
        if counts is not None:
            fields["counts"] = counts
        if state is not None:
            fields["state"] = state
        if event is not None:
            fields["event"] = event
        control = yield from self.step(f"wave/{wave['name']}/{key}", reason, message, **fields)
        return control

    def safe_point(self) -> Step:
        """Hold here while paused; raise `Stop` when aborted or superseded."""
        control = self.control or (yield from read_control(self.listener, self.ref, self.policy))
        while True:
            held = held_reason(control)
            if held in ("aborted", "superseded"):
                raise Stop(held)
            if held != "paused":
                return
            self.pauses += 1
            yield from self.step(
                f"paused/{self.pauses}",
                Reason.PAUSED,
                "paused by an operator",
                state=RolloutState.PAUSED,
            )
            while held_reason(control) == "paused":
                control = yield from wait_for_control(self.listener, self.ref, self.policy)
            if held_reason(control) is None:
                control = yield from self.step(
                    f"resumed/{self.pauses}",
                    Reason.RESUMED,
                    "resumed by an operator",
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
            held = held_reason(control)
            if held in ("aborted", "superseded"):
                raise Stop(held)
            fresh = yield from wait_for_control(self.listener, self.ref, self.policy, give_up)
            if fresh is None:
                raise Stop("approval-timeout", actor="arcwave")
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
            raise Stop(outcome["stopped"])
        return outcome["counts"], outcome["failures"]

    def wave(self, job: WaveJob, instance: str) -> Step:
        """Run a wave sub-orchestration; a wave that fails outright reports as a failure."""
        try:
            outcome: WaveOutcome = yield from self.listener.call(
                self.context.call_sub_orchestrator(WAVE, job, instance)
            )
        except Exception as failure:
            error = failure_text(failure)
            return WaveOutcome(
                counts={},
                stopped=None,
                restore=None,
                failure=str(StepFailed(WAVE, error, scope=f"wave '{job['wave']}'")),
                failures={},
            )
        return outcome

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
            held = held_reason(control)
            if held in ("aborted", "superseded"):
                raise Stop(held)
        request = ObserveRequest(**self.ref, wave=name, recheck=True)
        observed: ObserveResult = yield from retry.call(
            self.listener, OBSERVE, request, self.policy, scope=f"soak of wave '{name}'"
        )
        return observed["counts"], observed["failures"]

    def fail(self, wave: str, why: str) -> Step:
        if self.on_failure == "rollback" and self.changed:
            outcome = yield from self.roll_back(f"wave '{wave}' failed: {why}")
            return outcome
        outcome = yield from self.finish(
            RolloutState.FAILED,
            Reason.FAILURE_BUDGET_EXCEEDED,
            f"wave '{wave}' failed: {why}; halted",
            EventType.ROLLOUT_FAILED,
            key="failed",
        )
        return outcome

    def roll_back(
        self, why: str, *, state: RolloutState | None = None, reason: Reason | None = None
    ) -> Step:
        """Restore every wave this rollout changed, the last one first, and watch each.

        `state` and `reason` end the rollout as given (Aborted, Failed) instead of by how the
        rollback went; a wave whose rollback cannot run has its clusters marked as such."""
        yield from self.step(
            "rolling-back",
            Reason.ROLLING_BACK,
            f"{why}; rolling back {count(len(self.changed), 'wave')}",
        )
        failures = restored = 0
        base = self.context.instance_id
        for name in reversed(self.changed):
            job = WaveJob(**self.ref, wave=name, timing=self.job["timing"], mode="restore")
            outcome = yield from self.wave(job, wave_instance(base, name, rollback=True))
            counts = outcome["counts"]
            if outcome["failure"]:
                request = UnrestoredRequest(**self.ref, wave=name, error=outcome["failure"])
                counts = yield from retry.call(
                    self.listener, UNRESTORED, request, self.policy, scope=f"wave '{name}'"
                )
                done = f"rollback could not run: {outcome['failure']}"
            else:
                done = describe_restore(outcome["restore"]) if outcome["restore"] else ""
            wave_failed = counts.get(ClusterState.ROLLBACK_FAILED.value, 0)
            wave_restored = counts.get(ClusterState.ROLLED_BACK.value, 0)
            failures += wave_failed
            restored += wave_restored
            yield from self.step(
                f"wave/{name}/rolled-back",
                Reason.ROLLBACK_FAILED if wave_failed else Reason.ROLLED_BACK,
                f"wave '{name}': {wave_restored} restored, {wave_failed} failed"
                + (f" ({done})" if done else ""),
                wave=name,
                waveState=WaveState.ROLLED_BACK,
                counts=counts,
            )
        if failures:
            final = RolloutState.FAILED
            message = f"{why}; rollback left {count(failures, 'cluster')} unrestored"
            event = EventType.ROLLOUT_FAILED
            final_reason = Reason.ROLLBACK_FAILED
        else:
            final = RolloutState.ROLLED_BACK
            message = f"{why}; {count(restored, 'cluster')} restored"
            event = EventType.ROLLOUT_ROLLED_BACK
            final_reason = Reason.ROLLED_BACK
        if state is not None:
            final = state
            event = EventType.ROLLOUT_ABORTED if state is RolloutState.ABORTED else event
            if state is RolloutState.FAILED:
                event = EventType.ROLLOUT_FAILED
        outcome = yield from self.finish(final, reason or final_reason, message, event)
        return outcome

    def stopped(self, stop: Stop) -> Step:
        if stop.kind == "superseded":
            outcome = yield from self.finish(
                RolloutState.SUPERSEDED,
                Reason.SUPERSEDED,
                "a newer revision replaces it",
                EventType.ROLLOUT_SUPERSEDED,
            )
            return outcome
        if stop.kind == "approval-timeout":
            reason, why = Reason.APPROVAL_TIMED_OUT, "no approval in time"
        else:
            reason, why = Reason.ABORTED, "aborted by an operator"
        control = yield from read_control(self.listener, self.ref, self.policy)
        if control["rollback"] and self.changed:
            outcome = yield from self.roll_back(why, state=RolloutState.ABORTED)
            return outcome
        outcome = yield from self.finish(
            RolloutState.ABORTED,
            reason,
            f"{why}; clusters left as they are",
            EventType.ROLLOUT_ABORTED,
        )
        return outcome

    def outcome(self, state: RolloutState, reason: Reason) -> RolloutOutcome:
        return RolloutOutcome(
            rolloutId=self.job["rolloutId"], state=state.value, reason=reason.value
        )
