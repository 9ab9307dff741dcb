"""Outgoing event bodies: Event Grid envelopes and Flux generic-hmac notifications."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

from emulator.backend import Backend
from emulator.events import Delivery
from emulator.scenario import Scenario

HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"


class FakeClock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def make_backend(event_grid_schema: str = "EventGridSchema") -> tuple[Backend, FakeClock]:
    clock = FakeClock()
    scenario = Scenario.model_validate(
        {
            "clusters": [{"name": "canary-1"}],
            "flux": {"branchHeads": {"main": HEAD}, "reconcileSeconds": {"min": 0, "max": 0}},
            "events": {
                "eventGrid": {"url": "http://127.0.0.1:1/eg", "schema": event_grid_schema},
                "flux": {"url": "http://127.0.0.1:1/flux", "hmacKey": "s3cret"},
            },
        }
    )
    backend = Backend(scenario, clock=clock)
    backend.events.queue = asyncio.Queue()
    return backend, clock


def drain(backend: Backend) -> list[Delivery]:
    queue = backend.events.queue
    assert queue is not None
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def write_config(backend: Backend, clock: FakeClock) -> None:
    (cluster,) = backend.clusters_named("canary-1")
    properties = {
        "gitRepository": {"url": "https://x/y", "repositoryRef": {"branch": "main"}},
        "kustomizations": {"apps": {}},
    }
    config, _, _ = backend.put_configuration(cluster, "baseline", properties, "2023-05-01")
    backend.events.resource_changed(
        config.id, "Microsoft.KubernetesConfiguration/fluxConfigurations", "PUT", "https://e/x"
    )
    clock.now += 1
    backend.advance()
    clock.now += 1
    backend.advance()


def test_event_grid_write_success_is_an_array_of_one() -> None:
    backend, clock = make_backend()
    write_config(backend, clock)
    eg = [d for d in drain(backend) if d.url.endswith("/eg")]
    (event,) = json.loads(eg[0].body)
    assert eg[0].headers["aeg-event-type"] == "Notification"
    assert event["eventType"] == "Microsoft.Resources.ResourceWriteSuccess"
    assert event["subject"].endswith("/fluxConfigurations/baseline")
    assert (
        event["data"]["operationName"]
        == "Microsoft.KubernetesConfiguration/fluxConfigurations/write"
    )
    assert event["data"]["httpRequest"]["method"] == "PUT"
    assert event["topic"] == "/subscriptions/00000000-0000-0000-0000-000000000001"
    assert (event["dataVersion"], event["metadataVersion"]) == ("2", "1")


def test_cloud_events_schema() -> None:
    backend, clock = make_backend("CloudEventSchemaV1_0")
    write_config(backend, clock)
    eg = next(d for d in drain(backend) if d.url.endswith("/eg"))
    event = json.loads(eg.body)
    assert eg.headers["Content-Type"].startswith("application/cloudevents+json")
    assert (event["specversion"], event["type"]) == (
        "1.0",
        "Microsoft.Resources.ResourceWriteSuccess",
    )


def test_flux_event_is_signed_and_names_cluster_and_revision() -> None:
    backend, clock = make_backend()
    write_config(backend, clock)
    (flux,) = [d for d in drain(backend) if d.url.endswith("/flux")]
    expected = hmac.new(b"s3cret", flux.body, hashlib.sha256).hexdigest()
    assert flux.headers["X-Signature"] == f"sha256={expected}"
    assert flux.headers["Gotk-Component"] == "kustomize-controller"
    event = json.loads(flux.body)
    assert event["reason"] == "ReconciliationSucceeded"
    assert event["severity"] == "info"
    assert event["involvedObject"]["kind"] == "Kustomization"
    assert event["metadata"]["revision"] == f"main@sha1:{HEAD}"
    assert event["metadata"]["clusterId"].endswith("/connectedClusters/canary-1")


def test_cluster_changes_emit_events() -> None:
    backend, _ = make_backend()
    (cluster,) = backend.clusters_named("canary-1")
    backend.set_connectivity(cluster, "Offline")
    backend.remove_cluster(cluster)
    types = [json.loads(d.body)[0]["eventType"] for d in drain(backend)]
    assert types == [
        "Microsoft.Resources.ResourceWriteSuccess",
        "Microsoft.Resources.ResourceDeleteSuccess",
    ]
