from datetime import UTC, datetime

from shared.events import EventType, event_id, lifecycle_event
from shared.reasons import Reason

WHEN = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_the_same_facts_give_the_same_event_id() -> None:
    one = lifecycle_event(
        EventType.WAVE_STARTED,
        track="baseline",
        subject="rollouts/r1/waves/canary",
        time=WHEN,
        reason=Reason.WAVE_STARTED,
        message="Applying",
    )
    again = lifecycle_event(
        EventType.WAVE_STARTED,
        track="baseline",
        subject="rollouts/r1/waves/canary",
        time=datetime(2027, 1, 1, tzinfo=UTC),
        reason=Reason.WAVE_STARTED,
        message="Applying again",
    )
    assert one.id == again.id
    other = lifecycle_event(
        EventType.WAVE_SUCCEEDED,
        track="baseline",
        subject="rollouts/r1/waves/canary",
        time=WHEN,
        reason=Reason.WAVE_SUCCEEDED,
        message="done",
    )
    assert other.id != one.id


def test_event_ids_are_uuids_and_parts_do_not_run_together() -> None:
    assert len(event_id("a")) == 36
    assert event_id("ab", "c") != event_id("a", "bc")


def test_every_documented_type_exists() -> None:
    assert {t.value for t in EventType} == {
        "arcwave.rollout.started",
        "arcwave.wave.started",
        "arcwave.wave.succeeded",
        "arcwave.wave.failed",
        "arcwave.approval.requested",
        "arcwave.rollout.succeeded",
        "arcwave.rollout.failed",
        "arcwave.rollout.rolledBack",
        "arcwave.rollout.aborted",
        "arcwave.rollout.superseded",
        "arcwave.cluster.drifted",
    }


def test_cloud_event_data_leads_with_reason_and_message() -> None:
    event = lifecycle_event(
        EventType.ROLLOUT_FAILED,
        track="t",
        subject="rollouts/r",
        time=WHEN,
        reason=Reason.FAILURE_BUDGET_EXCEEDED,
        message="2 of 2 failed",
        data={"wave": "canary"},
    )
    assert event.cloud_event_data() == {
        "reason": "FailureBudgetExceeded",
        "message": "2 of 2 failed",
        "wave": "canary",
    }
    assert event.source == "/arcwave/tracks/t"
