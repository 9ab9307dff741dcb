"""Malformed Event Grid events, made from the published payloads by mutating them, are logged
once with their id, counted and acknowledged: never an exception, so Event Grid never
redelivers them, and nothing is touched (no store, no ARM)."""

import asyncio
import copy
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

import triggers.events as events
from devhost.durable.binding import client_binding
from triggers.eventshapes import MAX_EVENT_BYTES, Envelope, Malformed, RegistryPush

PAYLOADS = Path(__file__).resolve().parents[2] / "tests" / "payloads"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "payloads"


def published(name: str) -> dict[str, Any]:
    """One event as published (the reference copy, else the tests' own copy of it)."""
    for folder in (REFERENCE, PAYLOADS):
        if (folder / name).exists():
            body = json.loads((folder / name).read_text())
            return dict(body[0] if isinstance(body, list) else body)
    pytest.skip(f"{name} is not available here")


WRITE = "eventgrid-resources-resourcewritesuccess.eventgridschema.json"
IMAGE = "eventgrid-acr-imagepushed.eventgridschema.json"
CHART = "eventgrid-acr-chartpushed.eventgridschema.json"


def delivered(event: dict[str, Any]) -> func.EventGridEvent:
    """The event as the Functions worker hands it to the trigger."""
    decoded = EventGridEventInConverter.decode(
        meta.Datum(json.dumps(event), "json"), trigger_metadata=None
    )
    assert isinstance(decoded, func.EventGridEvent)
    return decoded


def mutated(name: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    event = copy.deepcopy(published(name))
    change(event)
    return event


def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = event
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"d": value}
    return value


ARM_MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("data a string", setter("data", "not an object"), "data is a string"),
    ("data a list", setter("data", [1, 2]), "data is a list"),
    ("data a number", setter("data", 42), "data is a number"),
    ("resourceUri a number", setter("data.resourceUri", 7), "resourceUri is a number"),
    ("resourceUri a list", setter("data.resourceUri", ["/subscriptions/x"]), "is a list"),
    ("resourceUri an object", setter("data.resourceUri", {"id": "x"}), "is an object"),
    ("resourceUri missing", lambda e: e["data"].pop("resourceUri"), "missing or null"),
    ("resourceUri empty", setter("data.resourceUri", ""), "an empty string"),
    ("resourceUri huge", setter("data.resourceUri", "/s" * 50_000), "100,000 characters"),
    ("data nested deep", setter("data.claims", deep(200)), "deeper than 64"),
    ("data over 1 MB", setter("data.claims", {"big": "x" * MAX_EVENT_BYTES}), "1 MB"),
    ("id a number", setter("id", 12345), "its id"),
    ("id empty", setter("id", ""), "its id"),
    ("id huge", setter("id", "i" * 10_000), "its id"),
    ("eventType a number", setter("eventType", 5), "eventType"),
]


@pytest.mark.parametrize(
    ("change", "why"), [(c, w) for _, c, w in ARM_MUTATIONS], ids=[n for n, _, _ in ARM_MUTATIONS]
)
def test_malformed_arm_events_are_read_as_malformed(
    change: Callable[[dict[str, Any]], None], why: str
) -> None:
    read = events.read_arm_event(delivered(mutated(WRITE, change)))
    assert isinstance(read, Malformed)
    assert why in read.why


ACR_MUTATIONS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    ("data a list", IMAGE, setter("data", []), "data is a list"),
    ("target a list", IMAGE, setter("data.target", ["x"]), "target is a list"),
    ("target missing", IMAGE, lambda e: e["data"].pop("target"), "target is missing"),
    ("request a string", IMAGE, setter("data.request", "demo.azurecr.io"), "request is a string"),
    ("repository a number", IMAGE, setter("data.target.repository", 1), "repository is a number"),
    ("tag an object", IMAGE, setter("data.target.tag", {"v": 1}), "tag is an object"),
    ("tag missing", CHART, lambda e: e["data"]["target"].pop("tag"), "tag is missing"),
    ("digest a number", IMAGE, setter("data.target.digest", 3), "digest is a number"),
    ("digest not sha256", IMAGE, setter("data.target.digest", "md5:abc"), "not an OCI reference"),
    ("tag not a tag", IMAGE, setter("data.target.tag", "a b/c"), "not an OCI reference"),
    ("no registry", CHART, setter("topic", "/subscriptions/x"), "names no registry"),
]


@pytest.mark.parametrize(
    ("name", "change", "why"),
    [(n, c, w) for _, n, c, w in ACR_MUTATIONS],
    ids=[label for label, _, _, _ in ACR_MUTATIONS],
)
def test_malformed_registry_events_are_read_as_malformed(
    name: str, change: Callable[[dict[str, Any]], None], why: str
) -> None:
    read = events.read_acr_event(delivered(mutated(name, change)))
    assert isinstance(read, Malformed)
    assert why in read.why


def test_the_published_events_are_read() -> None:
    write = events.read_arm_event(delivered(published(WRITE)))
    assert isinstance(write, Envelope) and write.type == events.WRITE_SUCCESS
    image = events.read_acr_event(delivered(published(IMAGE)))
    assert isinstance(image, RegistryPush) and image.repository == "samples/nginx"
    assert image.revision.startswith("latest@sha256:")
    chart = events.read_acr_event(delivered(published(CHART)))
    assert isinstance(chart, RegistryPush) and chart.tag == "mychart-1.0.0.tgz"
    # Events of other types are not malformed: one INFO line, no action.
    assert events.read_arm_event(delivered(published(IMAGE))) is None
    assert events.read_acr_event(delivered(published(WRITE))) is None


UNREACHABLE_CLIENT = client_binding("http://127.0.0.1:9", "http://127.0.0.1:9/rpc/", "hub", "k")
"""A durable client binding that reaches nothing: a malformed event never uses it."""


@pytest.fixture
def no_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed event must not reach the store or ARM: the runtime is not even built."""

    def refuse() -> None:
        raise AssertionError("a malformed event reached the runtime")

    monkeypatch.setattr(events, "runtime", refuse)


@pytest.mark.usefixtures("no_runtime")
@pytest.mark.parametrize(
    ("trigger", "name", "change"),
    [
        ("on_arm_event", WRITE, setter("data", "junk")),
        ("on_arm_event", WRITE, setter("data.resourceUri", 5)),
        ("on_acr_event", IMAGE, setter("data.target", None)),
        ("on_acr_event", IMAGE, setter("data.target.digest", "sha256:short")),
    ],
)
def test_a_malformed_event_is_logged_once_counted_and_acknowledged(
    trigger: str,
    name: str,
    change: Callable[[dict[str, Any]], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = delivered(mutated(name, change))
    function = getattr(events, trigger)._function.get_user_function()
    before = events.MALFORMED_EVENTS[trigger]
    with caplog.at_level(logging.INFO, logger="arcwave"):
        asyncio.run(function(event, client=UNREACHABLE_CLIENT))  # returns: Event Grid gets 2xx
    assert events.MALFORMED_EVENTS[trigger] == before + 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    line = warnings[0].getMessage()
    assert event.id in line and "malformed" in line and f"malformed_events={before + 1}" in line
    assert not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in caplog.text
