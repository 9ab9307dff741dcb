"""What one Azure Monitor alert does to one running rollout, by the policy of its track
(`alerts` in the track spec, as the rollout was planned with it).

    Fired, on clusters the rollout wrote, severe enough, not already firing on it:
        remember it on the rollout, then
        onFired: pause  → pause it (through the operator's control path), unless paused already
        onFired: fail   → ask it to fail (it stops at its next safe point, ends Failed with
                          reason AlertFired, and its onFailure applies)
    Resolved, firing on it:
        forget it; resume when `resumeOnResolved`, an alert paused it (not an operator), and no
        other alert on it still fires

Anything else changes nothing and says why. `react` is pure: the trigger runs it inside the
store's read-modify-write loop, so a racing operator command or a second delivery of the same
alert sees the other's result; the same alert delivered twice does nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.alerts import ActiveAlert, CommonAlert, pause_reason
from shared.reasons import Reason
from shared.states import Command
from shared.store import RolloutRecord
from shared.trackspec import AlertAction


class Effect(StrEnum):
    """What an alert did to one rollout."""

    PAUSED = "paused"
    FAILED = "failed"
    RESUMED = "resumed"
    RECORDED = "recorded"
    """Its record changed (an alert remembered or forgotten), its course did not."""
    IGNORED = "ignored"


class Ignored(StrEnum):
    """Why an alert changed nothing (the `reason` of a `200 {"ignored": …}` answer)."""

    NO_RUNNING_ROLLOUT = "NoRunningRollout"
    NO_MATCHING_CLUSTER = "NoMatchingCluster"
    IGNORED_BY_POLICY = "IgnoredByPolicy"
    BELOW_MIN_SEVERITY = "BelowMinSeverity"
    ALREADY_FIRING = "AlreadyFiring"
    NOT_FIRING = "NotFiring"
    ALREADY_ENDING = "AlreadyEnding"


@dataclass(frozen=True)
class Outcome:
    """One rollout after one alert: its new record (None when unchanged), what happened and
    the sentence the timeline and the answer carry."""

    record: RolloutRecord | None
    effect: Effect
    message: str
    ignored: Ignored | None = None


def react(rollout: RolloutRecord, alert: CommonAlert, clusters: list[str], at: datetime) -> Outcome:
    """What `alert`, naming the rollout's clusters `clusters` (names), does to `rollout`."""
    if rollout.state.is_terminal:
        return _ignored(Ignored.ALREADY_ENDING, f"rollout '{rollout.id}' is {rollout.state}")
    if rollout.spec is None:  # not planned yet, so it has written nothing
        return _ignored(Ignored.NO_MATCHING_CLUSTER, f"rollout '{rollout.id}' is not planned yet")
    policy = rollout.planned_spec().alerts
    said = _said(alert, clusters)
    if alert.fired:
        if policy.on_fired is AlertAction.IGNORE:
            return _ignored(
                Ignored.IGNORED_BY_POLICY, f"{said}; the track's alerts.onFired: ignore"
            )
        if not alert.essentials.severity.at_least(policy.min_severity):
            return _ignored(
                Ignored.BELOW_MIN_SEVERITY,
                f"{said}; less severe than the track's alerts.minSeverity "
                f"({policy.min_severity.value})",
            )
        if rollout.alerts.firing(alert.key):
            return _ignored(Ignored.ALREADY_FIRING, f"{said}; already known to fire")
        return _fired(rollout, alert, clusters, policy.on_fired, said, at)
    if not rollout.alerts.firing(alert.key):
        return _ignored(Ignored.NOT_FIRING, f"{said}; not firing on rollout '{rollout.id}'")
    return _resolved(rollout, alert, policy.resume_on_resolved, said, at)


def _fired(
    rollout: RolloutRecord,
    alert: CommonAlert,
    clusters: list[str],
    action: AlertAction,
    said: str,
    at: datetime,
) -> Outcome:
    active = ActiveAlert(
        rule=alert.rule,
        severity=alert.essentials.severity,
        clusters=clusters,
        fired_at=alert.essentials.fired_date_time,
    )
    record = rollout.model_copy(
        update={"alerts": rollout.alerts.with_alert(alert.key, active), "updated_at": at}
    )
    control = record.control
    if control.abort or control.superseded or control.fail is not None:
        return Outcome(record, Effect.RECORDED, f"{said}; the rollout is already ending")
    if action is AlertAction.FAIL:
        why = f"{said}: failing the rollout (alerts.onFired: fail)"
        failing = control.model_copy(update={"fail": why})
        return Outcome(record.model_copy(update={"control": failing}), Effect.FAILED, why)
    if control.paused:
        by = control.paused_by or "an operator"
        return Outcome(record, Effect.RECORDED, f"{said}; already paused by {by}")
    paused = record.commanded(Command.PAUSE, alert.actor, at)
    return Outcome(paused, Effect.PAUSED, f"{said}: pausing the rollout")


def _resolved(
    rollout: RolloutRecord, alert: CommonAlert, resume: bool, said: str, at: datetime
) -> Outcome:
    alerts = rollout.alerts.without(alert.key)
    record = rollout.model_copy(update={"alerts": alerts, "updated_at": at})
    control = record.control
    why_not = None
    if not control.paused:
        why_not = "not paused"
    elif pause_reason(control.paused_by) is not Reason.ALERT_FIRED:
        why_not = f"paused by {control.paused_by or 'an operator'}, who resumes it"
    elif not resume:
        why_not = "stays paused: the track's alerts.resumeOnResolved is false"
    elif alerts.active:
        rules = ", ".join(sorted({f"'{a.rule}'" for a in alerts.active.values()}))
        why_not = f"stays paused: {rules} still firing"
    elif not alerts.clear:
        why_not = "stays paused: more alerts fired than it remembers; resume it by hand"
    elif control.abort or control.superseded or control.fail is not None:
        why_not = "the rollout is already ending"
    if why_not is not None:
        return Outcome(record, Effect.RECORDED, f"{said}; {why_not}")
    resumed = record.commanded(Command.RESUME, alert.actor, at)
    return Outcome(resumed, Effect.RESUMED, f"{said}: no alert on it fires now, resuming")


def _said(alert: CommonAlert, clusters: list[str]) -> str:
    """`alert 'HighErrorRate' (Sev2) fired on cluster 'canary-1'`."""
    essentials = alert.essentials
    verb = "fired" if alert.fired else "resolved"
    shown = ", ".join(f"'{c}'" for c in clusters[:5])
    more = f" and {len(clusters) - 5} more" if len(clusters) > 5 else ""
    noun = "cluster" if len(clusters) == 1 else "clusters"
    return (
        f"alert '{alert.rule[:200]}' ({essentials.severity.value}) {verb} on {noun} {shown}{more}"
    )


def _ignored(why: Ignored, message: str) -> Outcome:
    return Outcome(None, Effect.IGNORED, message, why)
