"""Event Grid events through devhost: a reconnected cluster is caught up, drift is reported
and, when the track asks, reverted."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rollout_support import GOOD, SUB, Stack, cluster_id, running_stack

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e

OTHER = "0ba6f0d30760d567de0bac86c8c4eec13ce1a590"


def deliver(
    stack: Stack, event_type: str, data: dict[str, Any], event_id: str | None = None
) -> str:
    """Post one event as Event Grid delivers it (EventGridEvent schema, an array)."""
    event_id = event_id or str(uuid.uuid4())
    subject = data.get("resourceUri", "")
    body = [
        {
            "id": event_id,
            "eventType": event_type,
            "subject": subject,
            "eventTime": "2026-11-26T12:00:00Z",
            "data": data,
            "dataVersion": "2",
            "metadataVersion": "1",
            "topic": f"/subscriptions/{SUB}",
        }
    ]
    code, _ = stack.host.request(
        "POST",
        "/runtime/webhooks/eventgrid?functionName=on_arm_event",
        raw=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "aeg-event-type": "Notification"},
    )
    assert code in (200, 202), code
    return event_id


def write_event(resource: str) -> dict[str, Any]:
    return {
        "resourceUri": resource,
        "operationName": "write",
        "status": "Succeeded",
        "subscriptionId": SUB,
        "authorization": {"scope": resource, "action": "write"},
        "claims": {},
    }


def rollouts_of(stack: Stack, kind: str) -> list[Any]:
    return [r for r in stack.records.rollouts.list(track="baseline") if r.trigger.kind == kind]


@pytest.fixture
def offline_store(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, faults={"offline": ["store-3"]}) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.SUCCEEDED)
        yield stack


def test_a_cluster_write_event_catches_a_reconnected_cluster_up(offline_store: Stack) -> None:
    stack = offline_store
    store3 = cluster_id("store-3")
    assert stack.records.clusters.get("baseline", store3).state is ClusterState.SKIPPED
    stack.emulator.control.set_connectivity("store-3", "Connected")
    event_id = deliver(stack, "Microsoft.Resources.ResourceWriteSuccess", write_event(store3))
    [catch_up] = eventually(lambda: rollouts_of(stack, "catch-up"), timeout=30)
    done = stack.wait_state(catch_up.id, RolloutState.SUCCEEDED, RolloutState.FAILED)
    assert done.state is RolloutState.SUCCEEDED
    record = stack.records.clusters.get("baseline", store3)
    assert (record.state, record.last_good_revision) == (ClusterState.HEALTHY, GOOD)
    assert [w["commit"] for w in stack.writes() if w["cluster"] == "store-3"] == [GOOD]
    deliver(stack, "Microsoft.Resources.ResourceWriteSuccess", write_event(store3), event_id)
    assert len(rollouts_of(stack, "catch-up")) == 1


def test_an_event_about_a_cluster_already_at_its_revision_starts_nothing(
    offline_store: Stack,
) -> None:
    stack = offline_store
    deliver(stack, "Microsoft.Resources.ResourceWriteSuccess", write_event(cluster_id("store-1")))
    deliver(stack, "Microsoft.Storage.BlobCreated", {"url": "https://x"})
    assert rollouts_of(stack, "catch-up") == []


def drift_canary(stack: Stack) -> str:
    stack.emulator.control.edit_configuration(
        "canary-1",
        "baseline",
        {"gitRepository": {"repositoryRef": {"branch": "main", "commit": OTHER}}},
    )
    config = (
        cluster_id("canary-1")
        + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/baseline"
    )
    return deliver(stack, "Microsoft.Resources.ResourceWriteSuccess", write_event(config))


def test_drift_is_reported(offline_store: Stack) -> None:
    stack = offline_store
    drift_canary(stack)
    record = eventually(
        lambda: (
            (r := stack.records.clusters.get("baseline", cluster_id("canary-1"))).reason
            is Reason.DRIFTED
            and r
        ),
        timeout=30,
    )
    assert "pinned to 0ba6f0d" in record.message
    assert rollouts_of(stack, "drift-revert") == []


def test_drift_is_reverted_when_the_track_asks(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(drift="revert")
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.SUCCEEDED)
        drift_canary(stack)
        [revert] = eventually(lambda: rollouts_of(stack, "drift-revert"), timeout=30)
        assert stack.wait_state(revert.id, RolloutState.SUCCEEDED).state is RolloutState.SUCCEEDED
        canary = [w["commit"] for w in stack.writes() if w["cluster"] == "canary-1"]
        assert canary == [GOOD, GOOD]
        assert stack.records.tracks.get("baseline").last_good_revision == GOOD


def sweep(stack: Stack) -> None:
    code, _ = stack.host.request(
        "POST", f"/admin/functions/drift_sweep?code={stack.host.function_key}", {}
    )
    assert code == 202


def test_the_sweep_catches_up_joiners_and_reports_drift(offline_store: Stack) -> None:
    stack = offline_store
    stack.emulator.control.add_cluster("store-9", tags={"ring": "broad", "site": "site-1"})
    drift_canary_without_event(stack)
    sweep(stack)
    catch_ups = eventually(lambda: rollouts_of(stack, "catch-up"), timeout=30)
    assert len(catch_ups) == 1  # store-9; store-3 is offline, canary-1 is arcwave's own
    for rollout in catch_ups:
        stack.wait_state(rollout.id, RolloutState.SUCCEEDED, RolloutState.FAILED)
    joined = stack.records.clusters.get("baseline", cluster_id("store-9"))
    assert (joined.state, joined.last_good_revision) == (ClusterState.HEALTHY, GOOD)
    # store-3 is still offline: it waits for its own catch-up.
    assert stack.records.clusters.get("baseline", cluster_id("store-3")).state is (
        ClusterState.SKIPPED
    )
    canary = eventually(
        lambda: (
            (r := stack.records.clusters.get("baseline", cluster_id("canary-1"))).reason
            is Reason.DRIFTED
            and r
        ),
        timeout=30,
    )
    assert "pinned to 0ba6f0d" in canary.message


def drift_canary_without_event(stack: Stack) -> None:
    stack.emulator.control.edit_configuration(
        "canary-1",
        "baseline",
        {"gitRepository": {"repositoryRef": {"branch": "main", "commit": OTHER}}},
    )


PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"


def published(name: str) -> dict[str, Any]:
    body = json.loads((PAYLOADS / name).read_text())
    return dict(body[0] if isinstance(body, list) else body)


def malformed_events() -> list[tuple[str, dict[str, Any]]]:
    """The published events, mutated the ways a publisher could get them wrong."""
    write = published("eventgrid-resources-resourcewritesuccess.eventgridschema.json")
    image = published("eventgrid-acr-imagepushed.eventgridschema.json")
    cases: list[tuple[str, dict[str, Any]]] = []
    for function, event, path, value in [
        ("on_arm_event", write, ("data",), "not an object"),
        ("on_arm_event", write, ("data",), [1, 2, 3]),
        ("on_arm_event", write, ("data", "resourceUri"), 42),
        ("on_arm_event", write, ("data", "resourceUri"), {"nested": ["x"]}),
        ("on_arm_event", write, ("data", "claims"), {"big": "x" * (1024 * 1024)}),
        ("on_acr_event", image, ("data", "target"), ["not", "an", "object"]),
        ("on_acr_event", image, ("data", "target", "tag"), 7),
        ("on_acr_event", image, ("data", "target", "digest"), "sha256:not-hex"),
        ("on_acr_event", image, ("data", "request"), "demo.azurecr.io"),
    ]:
        changed = json.loads(json.dumps(event))
        changed["id"] = f"malformed-{uuid.uuid4()}"
        target = changed
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        cases.append((function, changed))
    return cases


def test_malformed_events_are_acknowledged_logged_once_and_change_nothing(
    tmp_path: Path,
) -> None:
    with running_stack(tmp_path) as stack:
        stack.register()
        cases = malformed_events()
        for function, event in cases:
            code, _ = stack.host.request(
                "POST",
                f"/runtime/webhooks/eventgrid?functionName={function}",
                raw=json.dumps([event]).encode(),
                headers={"Content-Type": "application/json", "aeg-event-type": "Notification"},
            )
            assert code in (200, 202), (code, function, event["id"])  # acknowledged: no retry
        output = stack.host.output()
        for function, event in cases:
            lines = [line for line in output.splitlines() if event["id"] in line]
            assert len(lines) == 1, lines
            assert "WARNING" in lines[0] and "malformed" in lines[0] and function in lines[0]
        assert f"malformed_events={sum(f == 'on_arm_event' for f, _ in cases)}" in output
        assert "Traceback" not in output
        assert stack.records.rollouts.list() == [] and stack.writes() == []
