"""record_progress: one step of a rollout written down — state, timeline, event, last good.

Each step is named by a key unique within its rollout, so a retried activity writes its
timeline entry and publishes its event once (the event id derives from the key). When a
rollout succeeds its revision becomes the last good revision of the track and of every
cluster that reached it.

Each step logs one line when its timeline entry is written, in key=value form
(`shared.logs.fields`): `decision rollout=… track=… step=… reason=… [state=…] [wave=…] …
message="…"`, at INFO, or WARNING for the decisions an operator has to act on.
"""

import contextlib
import logging
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from shared.contracts.activities import (
    READ_CONTROL,
    RECORD,
    TRACEPARENT,
    Control,
    ProgressRecord,
    RolloutRef,
)
from shared.events import EventType, lifecycle_event
from shared.logs import fields
from shared.reasons import Reason
from shared.runtime import Runtime, act, control_of
from shared.states import ClusterState, RolloutState, WaveState
from shared.store import Conflict, RolloutRecord, TrackRecord, Trigger, WaveStatus
from shared.telemetry import gate_waited, rollout_state

log = logging.getLogger("arcwave.activities.record")
bp = df.Blueprint()

NEEDS_ATTENTION = frozenset({Reason.ROLLBACK_FAILED, Reason.STEP_FAILED, Reason.ORCHESTRATION_LOST})
"""Decisions an operator has to act on: their line is a WARNING."""


def record(rt: Runtime, step: ProgressRecord) -> Control:
    now = rt.now()
    track, rollout_id = step["track"], step["rolloutId"]
    reason = Reason(step["reason"])
    message = step.get("message", "")
    state = RolloutState(step["state"]) if "state" in step else None

    def change(rollout: RolloutRecord) -> RolloutRecord:
        update: dict[str, Any] = {"updated_at": now}
        if state is not None:
            update |= {"state": state, "reason": reason, "message": message}
        if "control" in step:
            update["control"] = rollout.control.model_copy(update=dict(step["control"]))
        if "wave" in step:
            update["waves"] = [_wave_status(w, step, reason, message) for w in rollout.waves]
        return rollout.model_copy(update=update)

    if "trigger" in step and rt.records.rollouts.find(track, rollout_id) is None:
        _create(rt, step, now)
    advance = step.get("advanceLastGood")
    if advance:
        # Before the state changes: whoever sees Succeeded also sees the new last good.
        current = rt.records.rollouts.get(track, rollout_id)
        _advance_last_good(rt, current, now, track_too=advance != "clusters")
    rollout = rt.records.rollouts.update(track, rollout_id, change)
    if state is not None:
        rt.records.tracks.update(track, lambda t: _track_after(t, rollout, state, now))
    actor = step.get("actor", "arcwave")
    written = rt.records.timeline.append(
        rollout_id,
        step["key"],
        actor=actor,
        reason=reason,
        message=message,
        data={k: step[k] for k in ("wave", "waveState", "counts", "data") if k in step},
        time=now,
    )
    line = fields(
        rollout=rollout_id,
        track=track,
        step=step["key"],
        reason=reason.value,
        state=state.value if state is not None else None,
        wave=step.get("wave"),
        wave_state=step.get("waveState"),
        event=step.get("event"),
        actor=actor,
        message=message,
    )
    if written:
        log.log(logging.WARNING if reason in NEEDS_ATTENTION else logging.INFO, "decision %s", line)
        if state is not None:
            rollout_state(state.value, reason.value, track)
        if "wave" in step:
            _gate_passed(rt, step, now)
    else:
        log.debug("decision already recorded (a retried attempt): %s", line)
    if "event" in step:
        subject = f"rollouts/{rollout_id}" + (f"/waves/{step['wave']}" if "wave" in step else "")
        rt.publisher.publish(
            [
                lifecycle_event(
                    EventType(step["event"]),
                    track=track,
                    subject=subject,
                    time=now,
                    reason=reason,
                    message=message,
                    data={"rolloutId": rollout_id, "revision": rollout.revision}
                    | dict(step.get("data", {})),
                    discriminator=step["key"],
                )
            ]
        )
    return control_of(rollout)


GATES = {"approved": ("approval", "approval"), "succeeded": ("soak", "soaking")}
GATES["failed"] = GATES["succeeded"]
"""A wave's step that ends a gate → the gate, and the step that began it."""


def _gate_passed(rt: Runtime, step: ProgressRecord, now: datetime) -> None:
    """The step ends a wave's wait at a gate (an approval given, a soak's verdict): how long
    the wave waited there, from the step that began the wait (`arcwave.gate.duration`)."""
    wave = step["wave"]
    ended = step["key"].removeprefix(f"wave/{wave}/")
    if ended not in GATES:
        return
    gate, began = GATES[ended]
    start = rt.records.timeline.find(step["rolloutId"], f"wave/{wave}/{began}")
    if start is not None:
        gate_waited(gate, (now - start.time).total_seconds(), step["track"], wave)


def _create(rt: Runtime, step: ProgressRecord, now: Any) -> None:
    # Conflict: a retried attempt, or the API created the record first.
    with contextlib.suppress(Conflict):
        rt.records.rollouts.create(
            RolloutRecord(
                id=step["rolloutId"],
                track=step["track"],
                revision=step["revision"],
                # The trace context the trigger carried is telemetry's, not the record's.
                trigger=Trigger.model_validate(
                    {k: v for k, v in step["trigger"].items() if k != TRACEPARENT}
                ),
                clusters=step.get("clusters") or None,
                created_at=now,
                updated_at=now,
            )
        )


def _wave_status(
    wave: WaveStatus, step: ProgressRecord, reason: Reason, message: str
) -> WaveStatus:
    if wave.name != step["wave"]:
        return wave
    update: dict[str, Any] = {"reason": reason, "message": message}
    if "waveState" in step:
        update["state"] = WaveState(step["waveState"])
    if "counts" in step:
        update["counts"] = {ClusterState(k): v for k, v in step["counts"].items()}
    return wave.model_copy(update=update)


def _track_after(
    track: TrackRecord, rollout: RolloutRecord, state: RolloutState, now: Any
) -> TrackRecord:
    update: dict[str, Any]
    if state is RolloutState.RUNNING:
        update = {"current_revision": rollout.revision, "active_rollout_id": rollout.id}
    elif state.is_terminal and track.active_rollout_id == rollout.id:
        update = {"active_rollout_id": None}
    else:
        return track
    return track.model_copy(update={**update, "updated_at": now})


def _advance_last_good(rt: Runtime, rollout: RolloutRecord, now: Any, *, track_too: bool) -> None:
    if track_too:
        rt.records.tracks.update(
            rollout.track,
            lambda t: t.model_copy(
                update={"last_good_revision": rollout.revision, "updated_at": now}
            ),
        )
    healthy = rt.records.clusters.list(
        rollout.track, rollout=rollout.id, state=ClusterState.HEALTHY
    )
    rt.records.clusters.save_wave(
        [
            r.model_copy(update={"last_good_revision": rollout.revision, "updated_at": now})
            for r in healthy
        ]
    )


def read(rt: Runtime, ref: RolloutRef) -> Control:
    return control_of(rt.records.rollouts.get(ref["track"], ref["rolloutId"]))


@bp.activity_trigger(input_name="ref", activity=READ_CONTROL)
def read_control(ref: RolloutRef) -> Control:
    return act(read, ref, READ_CONTROL)


@bp.activity_trigger(input_name="step", activity=RECORD)
def record_progress(step: ProgressRecord) -> Control:
    return act(record, step, RECORD)
