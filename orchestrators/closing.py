"""How a rollout ends when it does not succeed: a wave over its budget, a step that failed for
good, an operator's abort, a newer revision, a lost orchestration. `onFailure: rollback` (or an
abort with rollback) restores every wave the rollout changed, the last one first, and watches
each; `halt` leaves the clusters as they are. Either way the end is recorded with its reason.
"""

from orchestrators import retry
from orchestrators.listener import Step
from orchestrators.retry import StepFailed
from orchestrators.rollout_steps import RolloutSteps, Stop, count
from orchestrators.steps import read_control
from shared.contracts.activities import (
    RECOVERY,
    UNRESTORED,
    RecoveryBrief,
    UnrestoredRequest,
    describe_restore,
)
from shared.contracts.orchestrations import WaveJob
from shared.events import EventType
from shared.names import wave_instance
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState


class Closing(RolloutSteps):
    """The ways a rollout ends other than success."""

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

    def fail(self, wave: str, why: str, reason: Reason = Reason.FAILURE_BUDGET_EXCEEDED) -> Step:
        """A wave failed (`reason`: its failure budget, or a metric gate): onFailure."""
        if self.on_failure == "rollback" and self.changed:
            outcome = yield from self.roll_back(f"wave '{wave}' failed: {why}")
            return outcome
        outcome = yield from self.finish(
            RolloutState.FAILED,
            reason,
            f"wave '{wave}' failed: {why}; halted",
            EventType.ROLLOUT_FAILED,
            key="failed",
        )
        return outcome

    def stopped(self, stop: Stop) -> Step:
        if stop.reason is Reason.SUPERSEDED:
            outcome = yield from self.finish(
                RolloutState.SUPERSEDED,
                Reason.SUPERSEDED,
                "a newer revision replaces it",
                EventType.ROLLOUT_SUPERSEDED,
            )
            return outcome
        if stop.reason is Reason.ALERT_FIRED:
            # An alert failed it (`alerts.onFired: fail`): a failure, so onFailure applies.
            control = yield from read_control(self.listener, self.ref, self.policy)
            why = control.get("fail") or "an alert fired on a cluster it wrote"
            outcome = yield from self.close_failed(why, Reason.ALERT_FIRED)
            return outcome
        reason = stop.reason
        why = (
            "no approval in time"
            if reason is Reason.APPROVAL_TIMED_OUT
            else "aborted by an operator"
        )
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
