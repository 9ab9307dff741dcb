"""The rollout orchestrator: one revision across a track's fleet, wave by wave.

    plan the fleet
    for each wave, in order:
        safe point: hold while paused; stop if aborted or superseded
        approval gate, when the wave asks for one (an optional timeout aborts)
        run the wave (apply in batches, watch until settled)
        judge it against its failure budget
        soak, then look again: a cluster that regressed counts as failed
    all waves passed: the revision becomes last good
    a wave failed: roll back what this rollout changed (onFailure: rollback) or halt

Every decision is recorded with its reason; orchestrations pass names and counts only.
"""

from datetime import timedelta
from typing import TypedDict

import azure.durable_functions as df

from activities.contracts import (
    OBSERVE,
    PLAN,
    Control,
    Counts,
    ObserveRequest,
    ObserveResult,
    PlanRequest,
    PlanResult,
    ProgressRecord,
    RolloutRef,
    WaveBrief,
    held_reason,
)
from orchestrators.common import (
    ACTIVITY_RETRY,
    CONTROL_EVENT,
    ROLLOUT,
    WAVE,
    Listener,
    Step,
    read_control,
    record,
    wait_for_control,
    wave_instance,
)
from orchestrators.wave import WaveJob, WaveOutcome
from shared.events import EventType
from shared.gates import judge
from shared.quantities import CountOrPercent
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState

bp = df.Blueprint()

DEFAULT_DEADLINE = timedelta(minutes=30)
"""The progress deadline until the plan says the track's own."""


class RolloutJob(TypedDict):
    rolloutId: str
    track: str
    revision: str
    trigger: dict[str, str]
    pollSeconds: float
    clusters: list[str] | None
    """A catch-up of these clusters only."""


class RolloutOutcome(TypedDict):
    rolloutId: str
    state: str
    reason: str


class Stop(Exception):
    """A safe point found the rollout must end: `reason` says why."""

    def __init__(self, kind: str, actor: str = "operator") -> None:
        super().__init__(kind)
        self.kind = kind
        self.actor = actor


def count(n: int, noun: str) -> str:
    """`1 wave`, `3 waves`, `2 batches`."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}es" if noun.endswith(("ch", "s")) else f"{n} {noun}s"


@bp.orchestration_trigger(context_name="context", orchestration=ROLLOUT)
def rollout_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    job: RolloutJob = context.get_input()
    run = Run(context, job)
    yield from run.step(
        "started",
        Reason.ROLLOUT_STARTED,
        f"rolling out {job['revision'][:7]}",
        state=RolloutState.RUNNING,
        event=EventType.ROLLOUT_STARTED,
        revision=job["revision"],
        trigger=job["trigger"],
    )
    request: PlanRequest = {
        "rolloutId": job["rolloutId"],
        "track": job["track"],
        "revision": job["revision"],
    }
    if job.get("clusters"):
        request["clusters"] = job["clusters"] or []
    plan: PlanResult = yield from run.listener.call(
        context.call_activity_with_retry(PLAN, ACTIVITY_RETRY, request)
    )
    run.deadline = timedelta(seconds=plan["progressDeadlineSeconds"])
    total = sum(w["clusters"] for w in plan["waves"])
    yield from run.step(
        "planned",
        Reason.PLANNED,
        f"{count(total, 'cluster')} in {count(len(plan['waves']), 'wave')}, "
        f"{plan['excluded']} excluded, "
        f"{plan['unassigned']} unassigned",
    )
    changed: list[str] = []
    try:
        for index, wave in enumerate(plan["waves"]):
            context.set_custom_status(
                {"wave": wave["name"], "index": index + 1, "of": len(plan["waves"])}
            )
            if wave["clusters"] == 0:
                yield from run.wave_step(
                    wave, "empty", Reason.WAVE_SUCCEEDED, "no clusters", WaveState.SKIPPED
                )
                continue
            yield from run.safe_point()
            if wave["approval"]:
                yield from run.approval_gate(wave)
            counts = yield from run.run_wave(wave, plan, changed)
            verdict = judge(counts, CountOrPercent.parse(wave["maxFailures"]))
            if verdict.passed and wave["soakSeconds"] > 0:
                counts = yield from run.soak(wave)
                verdict = judge(counts, CountOrPercent.parse(wave["maxFailures"]))
            if not verdict.passed:
                yield from run.wave_step(
                    wave,
                    "failed",
                    verdict.reason,
                    verdict.message,
                    WaveState.FAILED,
                    counts=counts,
                    event=EventType.WAVE_FAILED,
                )
                outcome = yield from run.fail(plan, changed, wave["name"], verdict.message)
                return outcome
            yield from run.wave_step(
                wave,
                "succeeded",
                verdict.reason,
                verdict.message,
                WaveState.SUCCEEDED,
                counts=counts,
                event=EventType.WAVE_SUCCEEDED,
            )
    except Stop as stop:
        outcome = yield from run.stopped(stop, plan, changed)
        return outcome
    yield from run.step(
        "succeeded",
        Reason.ROLLOUT_SUCCEEDED,
        f"{job['revision'][:7]} rolled out over {count(len(plan['waves']), 'wave')}",
        state=RolloutState.SUCCEEDED,
        event=EventType.ROLLOUT_SUCCEEDED,
        # A catch-up brings clusters to a revision; it never moves the track's last good.
        advanceLastGood="clusters" if job.get("clusters") else True,
    )
    return run.outcome(RolloutState.SUCCEEDED, Reason.ROLLOUT_SUCCEEDED)


class Run:
    """The steps of one rollout, as the runbook names them.

    Every yield goes through `listener`, which keeps the operator's `control` events from
    getting lost between waits.
    """

    def __init__(self, context: df.DurableOrchestrationContext, job: RolloutJob) -> None:
        self.context = context
        self.job = job
        self.ref = RolloutRef(
            rolloutId=job["rolloutId"], track=job["track"], revision=job["revision"]
        )
        self.listener = Listener(context, CONTROL_EVENT)
        self.control: Control | None = None
        self.pauses = 0
        self.deadline = DEFAULT_DEADLINE

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
        self.control = yield from record(self.listener, step)
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
        control = self.control or (yield from read_control(self.listener, self.ref))
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
                control = yield from wait_for_control(self.listener, self.ref)
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
            fresh = yield from wait_for_control(self.listener, self.ref, give_up)
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

    def run_wave(self, wave: WaveBrief, plan: PlanResult, changed: list[str]) -> Step:
        name = wave["name"]
        deadline = self.context.current_utc_datetime + self.deadline
        yield from self.wave_step(
            wave,
            "started",
            Reason.WAVE_STARTED,
            f"applying {self.job['revision'][:7]} to wave '{name}' "
            f"({count(wave['clusters'], 'cluster')} in {count(wave['batches'], 'batch')})",
            WaveState.APPLYING,
            state=RolloutState.RUNNING,
            event=EventType.WAVE_STARTED,
        )
        job = WaveJob(
            **self.ref,
            wave=name,
            batches=wave["batches"],
            deadline=deadline.isoformat(),
            pollSeconds=self.job["pollSeconds"],
            mode="rollout",
        )
        changed.append(name)
        outcome: WaveOutcome = yield from self.listener.call(
            self.context.call_sub_orchestrator(
                WAVE, job, wave_instance(self.job["rolloutId"], name)
            )
        )
        if outcome["stopped"]:
            raise Stop(outcome["stopped"])
        return outcome["counts"]

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
            control = yield from wait_for_control(self.listener, self.ref, end)
            if control is None:
                break
            held = held_reason(control)
            if held in ("aborted", "superseded"):
                raise Stop(held)
        request = ObserveRequest(**self.ref, wave=name, deadlinePassed=False, recheck=True)
        observed: ObserveResult = yield from self.listener.call(
            self.context.call_activity_with_retry(OBSERVE, ACTIVITY_RETRY, request)
        )
        return observed["counts"]

    def fail(self, plan: PlanResult, changed: list[str], wave: str, why: str) -> Step:
        if plan["onFailure"] == "rollback" and changed:
            outcome = yield from self.roll_back(changed, f"wave '{wave}' failed: {why}")
            return outcome
        yield from self.step(
            "failed",
            Reason.FAILURE_BUDGET_EXCEEDED,
            f"wave '{wave}' failed: {why}; halted",
            state=RolloutState.FAILED,
            event=EventType.ROLLOUT_FAILED,
        )
        return self.outcome(RolloutState.FAILED, Reason.FAILURE_BUDGET_EXCEEDED)

    def roll_back(self, changed: list[str], why: str, *, final: RolloutState | None = None) -> Step:
        """Restore every wave this rollout changed, the last one first, and watch each."""
        yield from self.step(
            "rolling-back",
            Reason.ROLLING_BACK,
            f"{why}; rolling back {count(len(changed), 'wave')}",
        )
        failures = 0
        restored = 0
        for name in reversed(changed):
            job = WaveJob(
                **self.ref,
                wave=name,
                batches=0,
                deadline=(self.context.current_utc_datetime + self.deadline).isoformat(),
                pollSeconds=self.job["pollSeconds"],
                mode="restore",
            )
            outcome: WaveOutcome = yield from self.listener.call(
                self.context.call_sub_orchestrator(
                    WAVE, job, wave_instance(self.job["rolloutId"], name, rollback=True)
                )
            )
            wave_failed = outcome["counts"].get(ClusterState.ROLLBACK_FAILED.value, 0)
            wave_restored = outcome["counts"].get(ClusterState.ROLLED_BACK.value, 0)
            failures += wave_failed
            restored += wave_restored
            yield from self.step(
                f"wave/{name}/rolled-back",
                Reason.ROLLBACK_FAILED if wave_failed else Reason.ROLLED_BACK,
                f"wave '{name}': {wave_restored} restored, {wave_failed} failed",
                wave=name,
                waveState=WaveState.ROLLED_BACK,
                counts=outcome["counts"],
            )
        if failures:
            state, reason = final or RolloutState.FAILED, Reason.ROLLBACK_FAILED
            message = f"{why}; rollback left {count(failures, 'cluster')} unrestored"
            event = EventType.ROLLOUT_FAILED
        else:
            state, reason = final or RolloutState.ROLLED_BACK, Reason.ROLLED_BACK
            message = f"{why}; {count(restored, 'cluster')} restored"
            event = EventType.ROLLOUT_ROLLED_BACK if final is None else EventType.ROLLOUT_ABORTED
        yield from self.step("finished", reason, message, state=state, event=event)
        return self.outcome(state, reason)

    def stopped(self, stop: Stop, plan: PlanResult, changed: list[str]) -> Step:
        if stop.kind == "superseded":
            yield from self.step(
                "finished",
                Reason.SUPERSEDED,
                "a newer revision replaces it",
                state=RolloutState.SUPERSEDED,
                event=EventType.ROLLOUT_SUPERSEDED,
            )
            return self.outcome(RolloutState.SUPERSEDED, Reason.SUPERSEDED)
        if stop.kind == "approval-timeout":
            reason, why = Reason.APPROVAL_TIMED_OUT, "no approval in time"
        else:
            reason, why = Reason.ABORTED, "aborted by an operator"
        control = yield from read_control(self.listener, self.ref)
        if control["rollback"] and changed:
            outcome = yield from self.roll_back(changed, why, final=RolloutState.ABORTED)
            return outcome
        yield from self.step(
            "finished",
            reason,
            f"{why}; clusters left as they are",
            state=RolloutState.ABORTED,
            event=EventType.ROLLOUT_ABORTED,
        )
        return self.outcome(RolloutState.ABORTED, reason)

    def outcome(self, state: RolloutState, reason: Reason) -> RolloutOutcome:
        return RolloutOutcome(
            rolloutId=self.job["rolloutId"], state=state.value, reason=reason.value
        )
