"""Rollouts: one document per rollout, with its plan, wave statuses, counts and control."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from shared.alerts import AlertHold, pause_reason
from shared.errors import PermanentError
from shared.plan import Plan
from shared.reasons import Reason
from shared.states import ClusterState, Command, RolloutState, WaveState
from shared.store.containers import ROLLOUTS
from shared.store.record import Record, SafeId, _Repository
from shared.times import UtcTime, format_time
from shared.trackspec import TrackSpec
from shared.wire import WireModel

Counts = dict[ClusterState, int]
"""How many clusters are in each state."""


class Trigger(WireModel):
    """What started a rollout: a git push, an event, an operator, a catch-up."""

    kind: str = Field(min_length=1)
    actor: str = Field(min_length=1)
    delivery_id: str | None = None
    undoes: str | None = None
    """A rollback of a finished rollout: the id of the rollout it undoes."""


class WaveSummary(WireModel):
    """One wave of the plan, as counts: the plan itself is too big for a document."""

    name: str
    clusters: int = Field(ge=0)
    max_in_flight: int = Field(ge=0)
    """Clusters between their write and their verdict at any instant (`maxConcurrency`)."""
    max_per_site: int | None = Field(default=None, ge=1)


class WaveStatus(WireModel):
    """Where one wave of a rollout stands and why."""

    name: str
    state: WaveState = WaveState.PENDING
    reason: Reason | None = None
    message: str = ""
    counts: Counts = Field(default_factory=dict)


class WindowsOverride(WireModel):
    """An operator's emergency override of a rollout's maintenance windows: who, why, when."""

    by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    at: UtcTime


class RolloutControl(WireModel):
    """What operators and the track asked of a running rollout; honoured at safe points."""

    paused: bool = False
    paused_by: str | None = None
    """Who asked for the pause: an operator's name, or `alert:<rule>` (`shared.alerts`)."""
    abort: bool = False
    rollback: bool = False
    """With `abort`: restore what the rollout changed."""
    superseded: bool = False
    """A newer revision replaces this rollout (supersede: restart)."""
    approvals: dict[str, str] = Field(default_factory=dict)
    """Wave name → who approved it."""
    fail: str | None = None
    """An alert failed the rollout (`alerts.onFired: fail`): why, as its end records it
    (reason AlertFired). It stops at its next safe point, then `onFailure` applies."""
    windows_override: WindowsOverride | None = None
    """Set by `POST /api/rollouts/{id}/override-windows`: from then on the rollout writes
    (and restores) clusters whatever their maintenance windows say."""


class CommandRefused(PermanentError):
    """An operator command the rollout does not accept in its state; the message says why."""


class RolloutRecord(Record):
    """One rollout of a track. Partition key: `track`."""

    container: ClassVar[str] = ROLLOUTS

    id: SafeId
    track: SafeId
    revision: str
    previous_revision: str | None = None
    state: RolloutState = RolloutState.PENDING
    reason: Reason = Reason.ROLLOUT_STARTED
    message: str = ""
    trigger: Trigger
    created_at: UtcTime
    updated_at: UtcTime
    plan: list[WaveSummary] = Field(default_factory=list)
    waves: list[WaveStatus] = Field(default_factory=list)
    counts: Counts = Field(default_factory=dict)
    control: RolloutControl = Field(default_factory=RolloutControl)
    alerts: AlertHold = Field(default_factory=AlertHold)
    """The Azure Monitor alerts firing on clusters this rollout wrote (`shared.alerting`)."""
    clusters: list[str] | None = None
    """A catch-up's clusters (None: the track's whole fleet)."""
    fast: bool = False
    """A fast rollback: every cluster in one wave, gates off (`activities.plan.fast_spec`)."""
    spec: dict[str, Any] | None = None
    """The track spec as planned (wire JSON): every write and rollback of this rollout uses
    it, whatever happens to the track's spec meanwhile."""
    spec_version: str | None = None
    """The track's `specVersion` the snapshot was taken at."""

    def refusal(self, command: Command) -> str | None:
        """None when `command` applies to this rollout now; otherwise a sentence saying why
        not. The one rule for every command, wherever it comes from."""
        state, control = self.state, self.control
        what = f"rollout '{self.id}' is {state.value}"
        if state.is_terminal:
            return f"cannot {command.value}: {what} and will not change again"
        if command is Command.APPROVE and state is not RolloutState.WAITING_FOR_APPROVAL:
            return f"cannot approve: {what}, not waiting for approval"
        by_alert = pause_reason(control.paused_by) is Reason.ALERT_FIRED
        if command is Command.PAUSE and control.paused and not by_alert:
            return f"cannot pause: {what} and already asked to pause"
        if command is Command.RESUME and not control.paused:
            return f"cannot resume: {what}, not paused"
        if command is Command.ABORT and control.abort:
            return f"cannot abort: {what} and already aborting"
        if control.superseded and command is not Command.ABORT:
            return f"cannot {command.value}: {what} and being superseded by a newer revision"
        if control.fail is not None and command is not Command.ABORT:
            return f"cannot {command.value}: {what} and failing: {control.fail}"
        return None

    def commanded(
        self, command: Command, actor: str, at: datetime, *, rollback: bool = False
    ) -> "RolloutRecord":
        """This rollout with `command` written into its control block; `CommandRefused` when
        it does not accept it (checked against this very version)."""
        problem = self.refusal(command)
        if problem:
            raise CommandRefused(problem)
        control = self.control
        if command is Command.APPROVE:
            waiting = [w.name for w in self.waves if w.state is WaveState.WAITING_FOR_APPROVAL]
            control = control.model_copy(
                update={"approvals": {**control.approvals, **dict.fromkeys(waiting, actor)}}
            )
        elif command is Command.PAUSE:
            # An operator's pause over an alert's takes it over: no resolution undoes it.
            control = control.model_copy(update={"paused": True, "paused_by": actor})
        elif command is Command.RESUME:
            control = control.model_copy(update={"paused": False, "paused_by": None})
        else:
            control = control.model_copy(update={"abort": True, "rollback": rollback})
        return self.model_copy(update={"control": control, "updated_at": at})

    def overriding_windows(self, actor: str, why: str, at: datetime) -> "RolloutRecord":
        """This rollout with its maintenance windows overridden by `actor` for `why`;
        `CommandRefused` when it has ended or was overridden already."""
        what = f"rollout '{self.id}' is {self.state.value}"
        if self.state.is_terminal:
            raise CommandRefused(
                f"cannot override maintenance windows: {what} and will not change again"
            )
        done = self.control.windows_override
        if done is not None:
            raise CommandRefused(
                f"cannot override maintenance windows: {what} and they were overridden "
                f"already, by {done.by} at {format_time(done.at)}"
            )
        override = WindowsOverride(by=actor, reason=why, at=at)
        control = self.control.model_copy(update={"windows_override": override})
        return self.model_copy(update={"control": control, "updated_at": at})

    @property
    def is_catch_up(self) -> bool:
        """A catch-up: it brings the clusters that missed rollouts to the last good revision."""
        return self.clusters is not None

    def with_plan(self, plan: Plan, spec: TrackSpec, spec_version: str) -> "RolloutRecord":
        """This rollout with the plan's summary, one pending status per wave, and the spec
        it was planned with."""
        return self.model_copy(
            update={
                "plan": [
                    WaveSummary(
                        name=w.name,
                        clusters=len(w.clusters),
                        max_in_flight=w.max_in_flight,
                        max_per_site=w.max_per_site,
                    )
                    for w in plan.waves
                ],
                "waves": [WaveStatus(name=w.name) for w in plan.waves],
                "spec": spec.to_wire(),
                "spec_version": spec_version,
            }
        )

    def planned_spec(self) -> TrackSpec:
        """The spec this rollout runs; `PermanentError` before it was planned."""
        if self.spec is None:
            raise RolloutNotPlanned(f"rollout '{self.id}' has not been planned yet")
        return TrackSpec.model_validate(self.spec)

    def wave(self, name: str) -> WaveStatus:
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(f"rollout '{self.id}' has no wave '{name}'")


class RolloutNotPlanned(PermanentError):
    """A step that needs the rollout's plan ran before the plan was stored."""


class RolloutRepository(_Repository[RolloutRecord]):
    model = RolloutRecord

    def get(self, track: str, id: str) -> RolloutRecord:
        return self._get(track, id)

    def find(self, track: str, id: str) -> RolloutRecord | None:
        return self._find(track, id)

    def update(
        self,
        track: str,
        id: str,
        mutate: Callable[[RolloutRecord], RolloutRecord | None],
        *,
        attempts: int = 10,
    ) -> RolloutRecord:
        return self._update(track, id, mutate, None, attempts)

    def list(
        self,
        track: str | None = None,
        *,
        state: RolloutState | None = None,
        limit: int | None = None,
    ) -> list[RolloutRecord]:
        """Rollouts newest first, of one track or (track None) of all tracks."""
        where = {} if state is None else {"state": state.value}
        docs = self.store.query(
            self.container, track, where=where, order_by="createdAt", descending=True, limit=limit
        )
        return [RolloutRecord.from_document(d) for d in docs]

    def find_by_id(self, id: str) -> RolloutRecord | None:
        """A rollout by id alone, whatever its track (a cross-partition query)."""
        docs = self.store.query(self.container, None, where={"id": id}, limit=1)
        return RolloutRecord.from_document(docs[0]) if docs else None
