"""A wave waiting for its maintenance windows, as its orchestration sees it.

    the step left clusters unwritten because their windows are closed:
        nothing in flight and nothing written → the wave waits: say so once, with the opening
        (reason OutsideMaintenanceWindow), and sleep until that opening (an hour at most; an
        operator's command or a Flux event wakes it sooner)
        else                                   → look again at the next poll, or at the
                                                 opening when that comes first
    writing begins again after a wait          → say so (the rollout runs again)

The activities decide which clusters may be written (`shared.maintenance.WriteGate`); this only
turns what they report (`outsideWindows`, `nextOpening`) into records and wake-up times. Time
comes from the orchestration's context; everything here replays.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import azure.durable_functions as df

from orchestrators.listener import Listener, Step
from orchestrators.steps import IDLE_WAIT, record
from shared.contracts.activities import Counts, ProgressRecord, RestoreResult, RolloutRef
from shared.contracts.orchestrations import RetryPolicy
from shared.maintenance import describe_opening
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState

SHORTEST_NAP = timedelta(seconds=1)
"""The least a wave sleeps when it wakes for an opening (or its poll, if shorter): an activity's
clock a little behind the orchestration's must not make it spin."""


@dataclass(frozen=True)
class Look:
    """What one step of a wave (or of its rollback) reported about windows."""

    outside: int
    """Clusters left unwritten because their windows are closed."""
    opening: datetime | None
    """When the first of them may be written; None: never within the horizon."""
    idle: bool
    """Nothing in flight and nothing written by the step: only windows hold the wave up."""
    written: int
    counts: Counts


def opening_of(result: object) -> datetime | None:
    """The `nextOpening` of an advance or restore result, as a time."""
    text = result.get("nextOpening") if isinstance(result, dict) else None
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def restored_count(result: RestoreResult) -> int:
    """Clusters a restore step wrote (or had refused)."""
    return result["restored"] + result["reinstated"] + result["removed"] + result["failed"]


def added(total: RestoreResult, more: RestoreResult) -> RestoreResult:
    """The restores of a wave's rollback so far: `total` and the next step's `more`."""
    return RestoreResult(
        restored=total["restored"] + more["restored"],
        reinstated=total["reinstated"] + more["reinstated"],
        removed=total["removed"] + more["removed"],
        failed=total["failed"] + more["failed"],
    )


class WindowWaits:
    """One wave's waits for its windows: each recorded when it begins and when it ends."""

    def __init__(
        self,
        context: df.DurableOrchestrationContext,
        listener: Listener,
        ref: RolloutRef,
        wave: str,
        policy: RetryPolicy,
        *,
        rollback: bool = False,
    ) -> None:
        self.context = context
        self.listener = listener
        self.ref = ref
        self.wave = wave
        self.policy = policy
        self.rollback = rollback
        self.waits = 0
        self.waiting = False

    def seen(self, look: Look) -> Step:
        """Record that the wave began waiting for its windows, or that it writes again."""
        if look.idle and look.outside and not self.waiting:
            self.waiting = True
            self.waits += 1
            yield from self._record(self._waiting(look))
        elif self.waiting and look.written:
            self.waiting = False
            yield from self._record(self._writing(look))

    def wake_at(self, look: Look, poll_seconds: float) -> datetime:
        """When to look again: at the next poll, or at the opening when that comes first; a
        wave that only waits for its windows sleeps until the opening (an hour at most)."""
        now: datetime = self.context.current_utc_datetime
        poll = now + timedelta(seconds=poll_seconds)
        if not look.outside:
            return poll
        if look.idle:
            wake = min(look.opening or now + IDLE_WAIT, now + IDLE_WAIT)
        else:
            wake = min(look.opening, poll) if look.opening is not None else poll
        return max(wake, now + min(SHORTEST_NAP, timedelta(seconds=poll_seconds)))

    def _waiting(self, look: Look) -> ProgressRecord:
        name = self.wave
        opening = describe_opening(look.opening, self.context.current_utc_datetime)
        clusters = f"{look.outside} cluster{'s' if look.outside != 1 else ''}"
        if self.rollback:
            step = self._step(
                f"wave/{name}/rollback-outside-windows/{self.waits}",
                f"rollback of wave '{name}' waits for maintenance windows: {clusters} to "
                f"restore outside theirs; {opening}",
            )
        else:
            step = self._step(
                f"wave/{name}/outside-windows/{self.waits}",
                f"wave '{name}' waits for maintenance windows: {clusters} outside theirs; "
                f"{opening}",
            )
            step["state"] = RolloutState.RUNNING.value
            unwritten = set(look.counts) <= {ClusterState.PENDING.value}
            if unwritten:
                step["waveState"] = WaveState.PENDING.value
        step["reason"] = Reason.OUTSIDE_MAINTENANCE_WINDOW.value
        step["counts"] = look.counts
        step["data"] = {
            "nextOpening": look.opening.isoformat() if look.opening else None,
            "outside": look.outside,
        }
        return step

    def _writing(self, look: Look) -> ProgressRecord:
        name = self.wave
        if self.rollback:
            step = self._step(
                f"wave/{name}/rollback-in-window/{self.waits}",
                f"maintenance windows open: restoring wave '{name}' ({look.written} now)",
            )
            step["reason"] = Reason.ROLLING_BACK.value
        else:
            step = self._step(
                f"wave/{name}/in-window/{self.waits}",
                f"maintenance windows open: writing wave '{name}' ({look.written} written now)",
            )
            step["reason"] = Reason.WAVE_STARTED.value
            step["state"] = RolloutState.RUNNING.value
            step["waveState"] = WaveState.APPLYING.value
        step["counts"] = look.counts
        return step

    def _step(self, key: str, message: str) -> ProgressRecord:
        step = ProgressRecord(
            rolloutId=self.ref["rolloutId"],
            track=self.ref["track"],
            key=key,
            message=message,
            wave=self.wave,
        )
        if "traceparent" in self.ref:
            step["traceparent"] = self.ref["traceparent"]
        return step

    def _record(self, step: ProgressRecord) -> Step:
        yield from record(self.listener, step, self.policy)
