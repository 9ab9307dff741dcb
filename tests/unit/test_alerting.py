"""What one Azure Monitor alert does to one rollout by its track's `alerts` policy
(`shared.alerting.react`): pause, fail, resume, remember, or nothing, and why."""

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.alerting import Effect, Ignored, react
from shared.alerts import MAX_ACTIVE_ALERTS, ActiveAlert, AlertHold
from shared.states import Command, RolloutState
from shared.store import RolloutRecord, Trigger
from shared.trackspec import Severity, validate_track_spec
from tests.unit.test_alert_payloads import SUB, alert

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def rollout(
    alerts: dict[str, Any] | None = None, state: RolloutState = RolloutState.RUNNING
) -> RolloutRecord:
    spec = validate_track_spec(
        {
            "name": "baseline",
            "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
            "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./i"}}},
            "fleet": {"subscriptions": [SUB]},
            "waves": [{"name": "all"}],
            **({"alerts": alerts} if alerts is not None else {}),
        }
    )
    return RolloutRecord(
        id="r1",
        track="baseline",
        revision="a" * 40,
        state=state,
        trigger=Trigger(kind="test", actor="pytest"),
        created_at=NOW,
        updated_at=NOW,
        spec=spec.to_wire(),
    )


def test_by_default_a_fired_alert_pauses_and_its_resolution_leaves_it_paused() -> None:
    fired = react(rollout(), alert("Fired"), ["canary-1"], NOW)
    assert fired.effect is Effect.PAUSED and fired.record is not None
    control = fired.record.control
    assert (control.paused, control.paused_by) == (True, "alert:HighErrorRate")
    assert (
        fired.message
        == "alert 'HighErrorRate' (Sev2) fired on cluster 'canary-1': pausing the rollout"
    )
    assert fired.record.alerts.firing(alert().key)
    resolved = react(fired.record, alert("Resolved"), ["canary-1"], NOW)
    assert resolved.effect is Effect.RECORDED and resolved.record is not None
    assert resolved.record.control.paused
    assert "resumeOnResolved is false" in resolved.message
    assert not resolved.record.alerts.firing(alert().key)


def test_a_resolved_alert_resumes_when_the_policy_says_so() -> None:
    fired = react(rollout({"resumeOnResolved": True}), alert("Fired"), ["canary-1"], NOW)
    assert fired.record is not None
    resolved = react(fired.record, alert("Resolved"), ["canary-1"], NOW)
    assert resolved.effect is Effect.RESUMED and resolved.record is not None
    assert (resolved.record.control.paused, resolved.record.control.paused_by) == (False, None)


def test_the_same_alert_delivered_twice_does_nothing_more() -> None:
    fired = react(rollout(), alert("Fired"), ["canary-1"], NOW)
    assert fired.record is not None
    again = react(fired.record, alert("Fired"), ["canary-1"], NOW)
    assert (again.effect, again.ignored, again.record) == (
        Effect.IGNORED,
        Ignored.ALREADY_FIRING,
        None,
    )
    resolved = react(fired.record, alert("Resolved"), ["canary-1"], NOW)
    assert resolved.record is not None
    twice = react(resolved.record, alert("Resolved"), ["canary-1"], NOW)
    assert (twice.effect, twice.ignored) == (Effect.IGNORED, Ignored.NOT_FIRING)


def test_it_resumes_only_when_no_other_alert_on_the_rollout_still_fires() -> None:
    first, second = alert(alert_id="a-1"), alert(alert_id="a-2", rule="PodRestarts")
    paused = react(rollout({"resumeOnResolved": True}), first, ["canary-1"], NOW).record
    assert paused is not None
    both = react(paused, second, ["canary-2"], NOW)
    assert both.effect is Effect.RECORDED and both.record is not None
    assert "already paused by alert:HighErrorRate" in both.message
    one_left = react(both.record, alert("Resolved", alert_id="a-1"), ["canary-1"], NOW)
    assert one_left.effect is Effect.RECORDED and one_left.record is not None
    assert "'PodRestarts' still firing" in one_left.message
    last = react(one_left.record, alert("Resolved", alert_id="a-2", rule="PodRestarts"), [], NOW)
    assert last.effect is Effect.RESUMED


def test_an_operators_pause_is_never_undone_by_an_alerts_resolution() -> None:
    operator = rollout({"resumeOnResolved": True}).commanded(Command.PAUSE, "ada@contoso.com", NOW)
    assert operator.refusal(Command.PAUSE) is not None  # an operator's pause is not taken over
    fired = react(operator, alert("Fired"), ["canary-1"], NOW)
    assert fired.effect is Effect.RECORDED and fired.record is not None
    resolved = react(fired.record, alert("Resolved"), ["canary-1"], NOW)
    assert resolved.effect is Effect.RECORDED and resolved.record is not None
    assert resolved.record.control.paused_by == "ada@contoso.com"
    assert "paused by ada@contoso.com, who resumes it" in resolved.message


def test_an_operator_takes_an_alerts_pause_over_and_keeps_it_paused() -> None:
    paused = react(rollout({"resumeOnResolved": True}), alert("Fired"), ["canary-1"], NOW).record
    assert paused is not None
    assert paused.refusal(Command.PAUSE) is None
    taken = paused.commanded(Command.PAUSE, "ada@contoso.com", NOW)
    resolved = react(taken, alert("Resolved"), ["canary-1"], NOW)
    assert resolved.effect is Effect.RECORDED and resolved.record is not None
    assert resolved.record.control.paused


def test_fail_asks_the_rollout_to_fail_naming_the_alert_and_the_cluster() -> None:
    failed = react(rollout({"onFired": "fail"}), alert("Fired"), ["canary-1"], NOW)
    assert failed.effect is Effect.FAILED and failed.record is not None
    assert failed.record.control.fail == (
        "alert 'HighErrorRate' (Sev2) fired on cluster 'canary-1': failing the rollout "
        "(alerts.onFired: fail)"
    )
    assert not failed.record.control.paused
    assert failed.record.refusal(Command.RESUME) is not None  # only an abort is still taken
    assert failed.record.refusal(Command.ABORT) is None


@pytest.mark.parametrize(
    ("policy", "severity", "why"),
    [
        ({"onFired": "ignore"}, "Sev0", Ignored.IGNORED_BY_POLICY),
        ({"minSeverity": "Sev2"}, "Sev3", Ignored.BELOW_MIN_SEVERITY),
    ],
)
def test_the_policy_can_ignore_an_alert(
    policy: dict[str, str], severity: str, why: Ignored
) -> None:
    outcome = react(rollout(policy), alert(severity=severity), ["canary-1"], NOW)
    assert (outcome.effect, outcome.ignored, outcome.record) == (Effect.IGNORED, why, None)


def test_an_alert_as_severe_as_the_minimum_acts() -> None:
    assert (
        react(rollout({"minSeverity": "Sev2"}), alert(severity="Sev2"), ["c"], NOW).effect
        is Effect.PAUSED
    )
    assert (
        react(rollout({"minSeverity": "Sev2"}), alert(severity="Sev0"), ["c"], NOW).effect
        is Effect.PAUSED
    )


def test_a_finished_rollout_is_left_alone() -> None:
    outcome = react(rollout(state=RolloutState.SUCCEEDED), alert(), ["canary-1"], NOW)
    assert outcome.ignored is Ignored.ALREADY_ENDING


def test_past_the_alerts_it_remembers_a_rollout_no_longer_resumes_by_itself() -> None:
    hold = AlertHold()
    active = ActiveAlert(rule="r", severity=Severity.SEV2, clusters=["c"])
    for i in range(MAX_ACTIVE_ALERTS + 1):
        hold = hold.with_alert(f"a-{i}", active)
    assert (len(hold.active), hold.unlisted) == (MAX_ACTIVE_ALERTS, 1)
    assert not hold.without("a-0").clear
    assert AlertHold().with_alert("a-0", active).without("a-0").clear
