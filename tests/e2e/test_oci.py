"""OCI tracks: a registry push event rolls the pushed digest out, wave by wave."""

import json
from pathlib import Path
from typing import Any

import pytest
from rollout_support import ROOT, SUB, Stack, running_stack

from shared.states import ClusterState, RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e

DIGEST = "sha256:" + "4f" * 32
REGISTRY = "contoso.azurecr.io"


def oci_track() -> dict[str, Any]:
    return {
        "source": {"url": f"oci://{REGISTRY}/fleet/baseline"},
        "ociTrigger": {"registry": REGISTRY, "repository": "fleet/baseline", "tagPattern": "v*"},
    }


def pushed(stack: Stack, tag: str, event_id: str, *, chart: bool = False) -> None:
    name = "chartpushed" if chart else "imagepushed"
    event = json.loads(
        (ROOT / f"tests/payloads/eventgrid-acr-{name}.eventgridschema.json").read_text()
    )
    event["id"] = event_id
    event["topic"] = (
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contoso"
    )
    event["data"]["target"].update(repository="fleet/baseline", tag=tag, digest=DIGEST)
    if "request" in event["data"]:
        event["data"]["request"]["host"] = REGISTRY
    code, _ = stack.host.request(
        "POST",
        "/runtime/webhooks/eventgrid?functionName=on_acr_event",
        raw=json.dumps([event]).encode(),
        headers={"Content-Type": "application/json", "aeg-event-type": "Notification"},
    )
    assert code in (200, 202)


def pushes(stack: Stack) -> list[Any]:
    return [
        r for r in stack.records.rollouts.list(track="baseline") if r.trigger.kind == "oci-push"
    ]


def test_an_image_push_rolls_the_digest_out(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(**oci_track())
        pushed(stack, "v1.2.0", "push-1")
        [rollout] = eventually(lambda: pushes(stack), timeout=30)
        assert rollout.revision == f"v1.2.0@{DIGEST}"
        done = stack.wait_state(rollout.id, RolloutState.SUCCEEDED, RolloutState.FAILED)
        assert done.state is RolloutState.SUCCEEDED, done.message
        clusters = stack.records.clusters.list("baseline")
        assert {c.state for c in clusters} == {ClusterState.HEALTHY}
        assert {c.last_good_revision for c in clusters} == {f"v1.2.0@{DIGEST}"}
        assert stack.records.tracks.get("baseline").last_good_revision == f"v1.2.0@{DIGEST}"
        pushed(stack, "v1.2.0", "push-1")  # Event Grid redelivers
        pushed(stack, "dev-7", "push-2")  # not a release tag
        assert len(pushes(stack)) == 1


def test_a_chart_push_without_a_request_host_is_matched_by_registry_name(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(**oci_track())
        pushed(stack, "v2.0.0", "chart-1", chart=True)
        [rollout] = eventually(lambda: pushes(stack), timeout=30)
        assert stack.wait_state(rollout.id, RolloutState.SUCCEEDED).revision == f"v2.0.0@{DIGEST}"
