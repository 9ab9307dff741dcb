"""The wave orchestrator: write a wave through its in-flight window and watch it settle.

    every poll interval — sooner when Flux says something or an operator acts, and near the
    end when the last verdicts are due (`shared.cadence`):
        advance the window: judge the clusters in flight, write the next ones into free slots
        settled (nothing in flight, nothing more to write)  → the wave's counts
        aborted or superseded                               → stop at once
        paused with nothing in flight                       → wait for the operator
        paused, or resumed                                  → say so (the rollout's state)
        clusters left outside their maintenance windows    → wait for the opening
                                                              (`orchestrators.windows`)

The window keeps at most `maxConcurrency` clusters of the wave (and `perSiteConcurrency` of
one site) between their write and their verdict, and writes nothing more once the failure
budget is spent. The same orchestration watches a rollback (`mode: restore`): restore every
cluster the rollout wrote (each once its maintenance windows are open), then watch each
against its own restore target.

A step that fails for good ends the wave with `failure` set instead of failing the
orchestration, so the rollout decides what follows. Its history grows with the looks of one
wave only (polls, wake-ups, and at most `EARLY_LOOKS` looks sooner than the poll); cluster ids
never enter it.
"""

from datetime import timedelta

import azure.durable_functions as df

from orchestrators import retry
from orchestrators.listener import Listener, Step
from orchestrators.retry import StepFailed
from orchestrators.steps import record, wait_for_control
from orchestrators.windows import Look, WindowWaits, added, opening_of, restored_count
from shared.alerts import pause_reason
from shared.cadence import EARLY_LOOKS, MIN_LOOK_SECONDS
from shared.contracts.activities import (
    ADVANCE,
    OBSERVE,
    RESTORE,
    AdvanceResult,
    Counts,
    Hold,
    ObserveRequest,
    ObserveResult,
    ProgressRecord,
    RestoreResult,
    WaveRef,
    hold,
    rollout_ref,
)
from shared.contracts.orchestrations import CONTROL_EVENT, HEALTH_EVENT, WAVE, WaveJob, WaveOutcome
from shared.reasons import Reason
from shared.states import RolloutState, WaveState

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=WAVE)
def wave_orchestrator(context: df.DurableOrchestrationContext) -> Step:
    job: WaveJob = context.get_input()
    wave = Wave(context, job)
    try:
        if job["mode"] == "restore":
            outcome = yield from wave.restore()
        else:
            outcome = yield from wave.roll()
    except StepFailed as failure:
        return WaveOutcome(counts={}, stopped=None, restore=None, failure=str(failure), failures={})
    return outcome


class Wave:
    def __init__(self, context: df.DurableOrchestrationContext, job: WaveJob) -> None:
        self.context = context
        self.job = job
        self.ref = rollout_ref(job)
        self.listener = Listener(context, HEALTH_EVENT, CONTROL_EVENT)
        self.policy = job["timing"]["retry"]
        self.scope = f"wave '{job['wave']}'"
        self.paused = False
        self.pauses = 0
        self.early_looks = 0
        """Looks taken sooner than the poll on the activities' hint (`shared.cadence`)."""
        self.windows = WindowWaits(
            context,
            self.listener,
            self.ref,
            job["wave"],
            self.policy,
            rollback=job["mode"] == "restore",
        )

    def roll(self) -> Step:
        """Advance the window until the wave settles (or is stopped)."""
        request = WaveRef(**self.ref, wave=self.job["wave"])
        all_written = False
        while True:
            self._quiet()
            advanced: AdvanceResult = yield from retry.call(
                self.listener, ADVANCE, request, self.policy, scope=self.scope
            )
            self.context.set_custom_status(
                {
                    "wave": self.job["wave"],
                    "counts": advanced["counts"],
                    "inFlight": advanced["inFlight"],
                    "pending": advanced["pending"],
                }
            )
            if advanced["settled"]:
                return self._outcome(advanced["counts"], failures=advanced["failures"])
            if not all_written and advanced["pending"] == 0:
                all_written = True
                yield from self._all_written(advanced)
            held = Hold(advanced["held"]) if advanced["held"] else None
            if held is not None and held.stops:
                return self._outcome(advanced["counts"], stopped=held)
            yield from self._pause_seen(held is Hold.PAUSED, advanced)
            if held is Hold.PAUSED and advanced["inFlight"] == 0:
                self.windows.waiting = False  # after a pause, waiting for a window is news
                control = advanced["control"]
                while hold(control) is Hold.PAUSED:
                    control = yield from wait_for_control(self.listener, self.ref, self.policy)
                continue
            look = Look(
                outside=advanced.get("outsideWindows", 0),
                opening=opening_of(advanced),
                idle=advanced["inFlight"] == 0 and advanced["written"] == 0,
                written=advanced["written"],
                counts=advanced["counts"],
            )
            yield from self.windows.seen(look)
            yield from self._nap(look, advanced.get("nextLookIn"))

    def restore(self) -> Step:
        """Restore what the rollout wrote in this wave, then watch until it settles; clusters
        whose maintenance windows are closed are restored once they open."""
        request = WaveRef(**self.ref, wave=self.job["wave"])
        scope = f"rollback of {self.scope}"
        restored: RestoreResult = yield from retry.call(
            self.listener, RESTORE, request, self.policy, scope=scope
        )
        total = restored
        watch = ObserveRequest(**request, recheck=False)
        while True:
            self._quiet()
            observed: ObserveResult = yield from retry.call(
                self.listener, OBSERVE, watch, self.policy, scope=scope
            )
            self.context.set_custom_status({"wave": self.job["wave"], "counts": observed["counts"]})
            outside = restored.get("outsideWindows", 0)
            if observed["settled"] and not outside:
                return self._outcome(
                    observed["counts"], restore=total, failures=observed["failures"]
                )
            look = Look(
                outside=outside,
                opening=opening_of(restored),
                idle=observed["settled"],
                written=restored_count(restored),
                counts=observed["counts"],
            )
            yield from self.windows.seen(look)
            yield from self._nap(look, None if outside else observed.get("nextLookIn"))
            if outside:
                restored = yield from retry.call(
                    self.listener, RESTORE, request, self.policy, scope=scope
                )
                total = added(total, restored)

    def _all_written(self, advanced: AdvanceResult) -> Step:
        """Say that every cluster of the wave is written and only verdicts are awaited."""
        name = self.job["wave"]
        step = ProgressRecord(
            rolloutId=self.job["rolloutId"],
            track=self.job["track"],
            key=f"wave/{name}/written",
            reason=Reason.REVISION_APPLIED.value,
            message=f"every cluster of wave '{name}' written; waiting for Flux on "
            f"{advanced['inFlight']}",
            wave=name,
            waveState=WaveState.PROGRESSING.value,
            counts=advanced["counts"],
        )
        if "traceparent" in self.ref:
            step["traceparent"] = self.ref["traceparent"]
        yield from record(self.listener, step, self.policy)

    def _pause_seen(self, paused: bool, advanced: AdvanceResult) -> Step:
        """Record a pause when it takes effect here (no new write from now on; those in
        flight finish), and the resume when writing starts again."""
        if paused == self.paused:
            return
        self.paused = paused
        name = self.job["wave"]
        step = ProgressRecord(rolloutId=self.job["rolloutId"], track=self.job["track"], wave=name)
        if paused:
            self.pauses += 1
            by = advanced["control"].get("pausedBy")
            step["key"] = f"wave/{name}/paused/{self.pauses}"
            step["reason"] = pause_reason(by).value
            step["message"] = (
                f"paused by {by or 'an operator'}: nothing more is written to wave '{name}' "
                f"({advanced['inFlight']} in flight finish, {advanced['pending']} wait)"
            )
            step["state"] = RolloutState.PAUSED.value
        else:
            step["key"] = f"wave/{name}/resumed/{self.pauses}"
            step["reason"] = Reason.RESUMED.value
            step["message"] = f"resumed: writing wave '{name}' again"
            step["state"] = RolloutState.RUNNING.value
        if "traceparent" in self.ref:
            step["traceparent"] = self.ref["traceparent"]
        yield from record(self.listener, step, self.policy)

    def _quiet(self) -> None:
        """Forget the wake-ups that arrived before this look: it sees what they announced."""
        self.listener.take(HEALTH_EVENT)
        self.listener.take(CONTROL_EVENT)

    def _nap(self, look: Look, sooner: float | None = None) -> Step:
        """Sleep until the next poll (or, with clusters outside their windows, until the
        opening when that comes first: `WindowWaits.wake_at`); near the end, until the step's
        hint when that comes first, `EARLY_LOOKS` times at most (`shared.cadence`)."""
        wake = self.windows.wake_at(look, self.job["timing"]["pollSeconds"])
        if sooner is not None and self.early_looks < EARLY_LOOKS:
            now = self.context.current_utc_datetime
            early = now + timedelta(seconds=max(MIN_LOOK_SECONDS, sooner))
            if early < wake:
                wake = early
                self.early_looks += 1
        yield from self.listener.sleep(wake, wake_on=(HEALTH_EVENT, CONTROL_EVENT))

    def _outcome(
        self,
        counts: Counts,
        *,
        stopped: Hold | None = None,
        restore: RestoreResult | None = None,
        failures: Counts | None = None,
    ) -> WaveOutcome:
        return WaveOutcome(
            counts=counts,
            stopped=stopped.value if stopped else None,
            restore=restore,
            failure=None,
            failures=failures or {},
        )
