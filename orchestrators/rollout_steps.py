"""What every step of a rollout does: write itself down, run a wave's sub-orchestration,
end the rollout. `RolloutSteps` holds one rollout's state for the orchestrator's replay;
`Stop` is how a safe point ends a rollout early.

Every yield goes through `listener`, which keeps the operator's `control` events from getting
lost between waits; every activity call rides out outages (`orchestrators.retry`).
"""

import azure.durable_functions as df

from orchestrators.listener import Listener, Step
from orchestrators.retry import StepFailed
from orchestrators.steps import record
from shared.contracts.activities import (
    Control,
    Counts,
    Hold,
    ProgressRecord,
    WaveBrief,
    traced_ref,
)
from shared.contracts.orchestrations import (
    CONTROL_EVENT,
    WAVE,
    RolloutJob,
    RolloutOutcome,
    WaveJob,
    WaveOutcome,
    failure_text,
)
from shared.events import EventType
from shared.reasons import Reason
from shared.states import RolloutState, WaveState

STOP_REASONS = {
    Hold.ABORTED: Reason.ABORTED,
    Hold.SUPERSEDED: Reason.SUPERSEDED,
    Hold.FAILED: Reason.ALERT_FIRED,
}


class Stop(Exception):
    """A safe point found the rollout must end: `reason` says why (Aborted, Superseded,
    ApprovalTimedOut, AlertFired)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason

    @classmethod
    def held(cls, held: Hold) -> "Stop":
        return cls(STOP_REASONS[held])


def count(n: int, noun: str) -> str:
    """`1 wave`, `3 waves`, `2 clusters`."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}es" if noun.endswith(("ch", "s")) else f"{n} {noun}s"


class RolloutSteps:
    """One rollout's state and the steps every part of its runbook takes."""

    def __init__(self, context: df.DurableOrchestrationContext, job: RolloutJob) -> None:
        self.context = context
        self.job = job
        self.ref = traced_ref(job["rolloutId"], job["track"], job["revision"], job["trigger"])
        self.listener = Listener(context, CONTROL_EVENT)
        self.policy = job["timing"]["retry"]
        self.control: Control | None = None
        self.pauses = 0
        self.changed: list[str] = []
        """Waves this rollout began writing, in order."""
        self.on_failure = "halt"

    def step(self, key: str, reason: Reason, message: str, **fields: object) -> Step:
        step: ProgressRecord = {
            "rolloutId": self.job["rolloutId"],
            "track": self.job["track"],
            "key": key,
            "reason": reason.value,
            "message": message,
        }
        if "traceparent" in self.ref:
            step["traceparent"] = self.ref["traceparent"]
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

    def finish(
        self, state: RolloutState, reason: Reason, message: str, event: EventType, key: str = ""
    ) -> Step:
        """Record the rollout's end; its outcome."""
        yield from self.step(key or "finished", reason, message, state=state, event=event)
        return self.outcome(state, reason)

    def outcome(self, state: RolloutState, reason: Reason) -> RolloutOutcome:
        return RolloutOutcome(
            rolloutId=self.job["rolloutId"], state=state.value, reason=reason.value
        )
