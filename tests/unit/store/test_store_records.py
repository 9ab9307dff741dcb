"""The typed records: wire shape, times, ids and the pieces the repositories rely on."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.errors import PermanentError
from shared.plan import Placement, Plan, WavePlan
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState
from shared.store import (
    ClusterRecord,
    Layout,
    RestorePoint,
    RolloutRecord,
    StoreMisconfigured,
    TimelineEntry,
    Trigger,
    cluster_key,
)
from shared.trackspec import validate_track_spec

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ARM_ID = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1"
SPEC = {
    "name": "baseline",
    "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
    "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
    "fleet": {"subscriptions": ["00000000-0000-0000-0000-000000000001"]},
    "waves": [{"name": "canary", "selector": {"ring": "canary"}}, {"name": "broad"}],
}


def rollout(**changes: object) -> RolloutRecord:
    fields: dict[str, object] = {
        "id": "r1",
        "track": "baseline",
        "revision": "a" * 40,
        "trigger": Trigger(kind="GitPush", actor="github:octocat"),
        "created_at": T0,
        "updated_at": T0,
    }
    return RolloutRecord(**{**fields, **changes})  # type: ignore[arg-type]


def test_times_are_written_in_one_fixed_width_utc_format() -> None:
    whole = rollout(created_at=T0).to_wire()["createdAt"]
    later = rollout(created_at=T0 + timedelta(microseconds=5)).to_wire()["createdAt"]
    local = rollout(created_at=T0.astimezone(timezone(timedelta(hours=2)))).to_wire()
    assert whole == "2026-11-26T09:00:00.000000Z"
    assert later == "2026-11-26T09:00:00.000005Z" and whole < later
    assert local["createdAt"] == whole


def test_a_time_without_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        rollout(created_at=datetime(2026, 11, 26, 9, 0))


def test_a_rollout_document_is_camel_case_and_round_trips() -> None:
    record = rollout(state=RolloutState.RUNNING, counts={ClusterState.HEALTHY: 3})
    doc = record.to_document()
    assert doc["previousRevision"] is None and doc["trigger"]["deliveryId"] is None
    assert doc["state"] == "Running" and doc["counts"] == {"Healthy": 3}
    assert "etag" not in doc
    read = RolloutRecord.from_document({**doc, "_etag": '"e1"', "_ts": 1, "_rid": "x"})
    assert read == record.model_copy(update={"etag": '"e1"'})
    assert read.etag == '"e1"'


def test_a_plan_becomes_a_summary_and_pending_waves() -> None:
    plan = Plan(
        track="baseline",
        waves=[
            WavePlan(
                name="canary",
                clusters=[Placement(id="c1", name="c1", reason="selector")],
                max_in_flight=1,
                rounds=[["c1"]],
            ),
            WavePlan(name="broad"),
        ],
    )
    spec = validate_track_spec(SPEC)
    planned = rollout().with_plan(plan, spec, "v7")
    assert [(w.name, w.clusters, w.max_in_flight) for w in planned.plan] == [
        ("canary", 1, 1),
        ("broad", 0, 1),
    ]
    assert (planned.planned_spec(), planned.spec_version) == (spec, "v7")
    with pytest.raises(PermanentError, match="has not been planned"):
        rollout().planned_spec()
    assert [w.state for w in planned.waves] == [WaveState.PENDING, WaveState.PENDING]
    with pytest.raises(KeyError, match="no wave 'late'"):
        planned.wave("late")


def test_ids_that_cosmos_refuses_are_refused_for_rollouts() -> None:
    with pytest.raises(ValidationError, match="ids must not hold"):
        rollout(id="rollout/1")


def test_a_cluster_record_takes_its_id_from_the_arm_id() -> None:
    record = ClusterRecord(cluster_id=ARM_ID, name="c1", track="baseline", updated_at=T0)
    assert record.id == cluster_key(ARM_ID)
    assert record.to_document()["clusterId"] == ARM_ID
    with pytest.raises(ValidationError, match="cluster_key"):
        ClusterRecord(id="other", cluster_id=ARM_ID, name="c1", track="baseline", updated_at=T0)


def test_unknown_fields_in_a_document_are_refused() -> None:
    with pytest.raises(ValidationError, match="surprise"):
        TimelineEntry.from_document(
            {
                "id": "e",
                "rolloutId": "r1",
                "time": "2026-11-26T09:00:00.000000Z",
                "actor": "arcwave",
                "reason": Reason.PLANNED.value,
                "message": "Planned",
                "surprise": 1,
            }
        )


def test_ttls_must_be_positive_seconds() -> None:
    with pytest.raises(StoreMisconfigured, match="timeline_ttl"):
        Layout(timeline_ttl=0)
    assert Layout().spec("timeline").default_ttl == 90 * 24 * 3600
    with pytest.raises(ValueError, match="unknown container 'nope'"):
        Layout().spec("nope")


def test_a_rollout_keeps_its_control_block_and_a_cluster_its_place() -> None:
    record = rollout()
    asked = record.control.model_copy(update={"paused": True, "approvals": {"early": "ops"}})
    doc = record.model_copy(update={"control": asked}).to_document()
    assert doc["control"]["paused"] is True and doc["control"]["approvals"] == {"early": "ops"}
    assert RolloutRecord.from_document(doc).control == asked
    cluster = ClusterRecord(
        cluster_id=ARM_ID,
        name="c1",
        track="baseline",
        wave="canary",
        position=2,
        site="s1",
        written_at=T0,
        restore_point=RestorePoint(captured_at=T0, configuration={"properties": {}}),
        updated_at=T0,
    )
    assert ClusterRecord.from_document(cluster.to_document()) == cluster
    with pytest.raises(ValidationError, match="position"):
        ClusterRecord(cluster_id=ARM_ID, name="c1", track="baseline", position=-1, updated_at=T0)
