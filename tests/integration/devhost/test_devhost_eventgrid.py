"""Event Grid triggers: both handshakes, both schemas, single events and batches, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.testing import DevHost, poll

pytestmark = pytest.mark.integration

PAYLOADS = Path(__file__).resolve().parent / "payloads"
WEBHOOK = "/runtime/webhooks/eventgrid?functionName="


def payload(name: str) -> object:
    """A recorded Event Grid payload (copies of the reference payloads, see payloads/)."""
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def recorded(host: DevHost) -> list[dict]:
    return host.request("GET", "/api/recorded/eventgrid")[1]


@pytest.fixture(autouse=True)
def _clear(host: DevHost) -> None:
    host.request("DELETE", "/api/recorded/eventgrid")


def test_subscription_validation_handshake(host: DevHost) -> None:
    """The EventGridEvent handshake answers 200 with the validation code and runs nothing."""
    status, body = host.request(
        "POST",
        WEBHOOK + "on_event",
        payload("eventgrid-subscriptionvalidation.eventgridschema.json"),
        headers={"aeg-event-type": "SubscriptionValidation"},
    )
    assert status == 200
    assert body == payload("eventgrid-subscriptionvalidation.response.json")
    assert recorded(host) == []


def test_cloudevents_options_handshake(host: DevHost) -> None:
    """The CloudEvents abuse-protection OPTIONS request is answered with the allowed origin."""
    status, headers, _ = host.raw(
        "OPTIONS", WEBHOOK + "on_event", headers={"WebHook-Request-Origin": "eventgrid.azure.net"}
    )
    assert status == 200
    assert headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert headers["WebHook-Allowed-Rate"] == "*"


def test_eventgrid_schema_batch_runs_once_per_event(host: DevHost) -> None:
    """An EventGridEvent array runs the function once per element with func.EventGridEvent."""
    events = payload("eventgrid-acr-imagepushed.eventgridschema.json")
    batch = events if isinstance(events, list) else [events]
    second = json.loads(json.dumps(batch[0]))
    second["id"] = "second-event"
    status, _ = host.request(
        "POST", WEBHOOK + "on_event", [*batch, second], headers={"aeg-event-type": "Notification"}
    )
    assert status == 202
    seen = recorded(host)
    assert [e["schema"] for e in seen] == ["eventgrid"] * (len(batch) + 1)
    assert seen[0]["type"] == "Microsoft.ContainerRegistry.ImagePushed"
    assert seen[0]["data"]["target"]["repository"]
    assert seen[-1]["id"] == "second-event"


def test_single_cloudevent(host: DevHost) -> None:
    """One CloudEvent object (structured mode) arrives as func.CloudEvent."""
    event = payload("eventgrid-acr-imagepushed.cloudevent.json")
    status, _ = host.request(
        "POST",
        WEBHOOK + "on_event",
        raw=json.dumps(event).encode(),
        headers={"Content-Type": "application/cloudevents+json; charset=utf-8"},
    )
    assert status == 202
    (seen,) = recorded(host)
    assert seen["schema"] == "cloudevents"
    assert seen["id"] == event["id"]
    assert seen["source"] == event["source"]
    assert seen["subject"] == "samples/nginx:latest"


def test_cloudevents_batch(host: DevHost) -> None:
    """A CloudEvents batch (JSON array) runs the function once per event."""
    one = payload("eventgrid-healthresources-availabilitystatuschanged.cloudevent.json")
    two = dict(one, id="another-id")
    status, _ = host.request(
        "POST",
        WEBHOOK + "on_event",
        raw=json.dumps([one, two]).encode(),
        headers={"Content-Type": "application/cloudevents-batch+json"},
    )
    assert status == 202
    assert [e["id"] for e in poll(lambda: recorded(host))] == [one["id"], "another-id"]


def test_unknown_function_is_404(host: DevHost) -> None:
    status, body = host.request("POST", WEBHOOK + "nope", [])
    assert status == 404
    assert "on_event" in body["error"]["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"[1, 2]", b'[{"id": "x"}]'])
def test_malformed_body_is_400(host: DevHost, raw: bytes) -> None:
    """Non-JSON, empty arrays, non-objects and events missing required fields are rejected."""
    status, body = host.request(
        "POST", WEBHOOK + "on_event", raw=raw, headers={"Content-Type": "application/json"}
    )
    assert status == 400
    assert body["error"]["code"] == "BadRequest"


def test_events_the_binding_cannot_read_are_400_and_run_nothing(host: DevHost) -> None:
    """Nesting past what JSON can be read to, or an eventTime that is no time: refused before
    any function runs (never a 500, which Event Grid would retry for a day)."""
    deep = b'[{"id": "d", "eventType": "t", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}]"
    event = dict(payload("eventgrid-acr-imagepushed.cloudevent.json"), id="bad-time")
    for raw in (deep, json.dumps([{**event, "time": "not a time"}]).encode()):
        status, body = host.request(
            "POST", WEBHOOK + "on_event", raw=raw, headers={"Content-Type": "application/json"}
        )
        assert status == 400, body
        assert body["error"]["code"] == "BadRequest"
    assert recorded(host) == []


def test_failing_function_answers_500(host: DevHost) -> None:
    """A failing handler gives 500 so Event Grid would retry the delivery."""
    event = payload("eventgrid-acr-imagepushed.cloudevent.json")
    status, _ = host.request("POST", WEBHOOK + "failing_event", event)
    assert status == 500


def test_event_grid_function_uses_the_durable_client(host: DevHost) -> None:
    """An Event Grid function with a durable client starts an orchestration per event."""
    event = dict(payload("eventgrid-acr-imagepushed.cloudevent.json"), id="eg-start-1")
    status, _ = host.request("POST", WEBHOOK + "start_from_event", [event])
    assert status == 202
    done = host.wait_for("event-eg-start-1")
    assert done["output"][-1] == {"subject": "samples/nginx:latest"}
