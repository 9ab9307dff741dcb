"""What arcwave reads from an Event Grid event, checked before anything acts on it.

Event Grid redelivers an event whose function fails, for up to a day. An event arcwave cannot
read (its `data` not an object, a field of the wrong type, a shape no publisher sends) would
fail the same way every time, so it is never an exception: each reader here returns the
values the trigger needs, or `Malformed` saying why, and the trigger logs it once and
acknowledges it (`triggers.events`).

Bounds: an event is at most `MAX_EVENT_BYTES` (Event Grid's own limit), its `data` nests at
most `MAX_DEPTH` levels, its id and resource URI are short strings.
"""

import json
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from shared.documents import MAX_DEPTH, nesting
from shared.problems import cut
from shared.revision import OciRef, RevisionError

MAX_EVENT_BYTES = 1024 * 1024
"""Event Grid's limit for one event: 1 MB (learn.microsoft.com/azure/event-grid/event-schema:
"each event in the array is limited to 1 MB"; push delivery batches at most 1,024 KB)."""

MAX_ID_CHARS = 512
"""Event ids are GUIDs from system topics; anything longer than this is not an id."""

MAX_RESOURCE_URI_CHARS = 4096
"""ARM resource ids are far shorter; a longer `resourceUri` names no resource."""


@dataclass(frozen=True)
class Malformed:
    """An event arcwave cannot read: acknowledged, never retried."""

    why: str


@dataclass(frozen=True)
class Envelope:
    """The parts of any event arcwave reads: its id, its type and its `data` object."""

    id: str
    type: str
    topic: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RegistryPush:
    """An image or chart pushed: `(registry host, repository, tag, digest)`."""

    registry: str
    repository: str
    tag: str
    digest: str | None

    @property
    def revision(self) -> str:
        """`tag@digest` (or the tag alone), as an OCI track's revision."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag


def read_envelope(event: func.EventGridEvent) -> Envelope | Malformed:
    """The event's id, type, topic and `data`, each of the type Event Grid sends."""
    event_id, event_type = event.id, event.event_type
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_ID_CHARS:
        return Malformed(f"its id is not a string of 1 to {MAX_ID_CHARS} characters")
    if not isinstance(event_type, str) or not event_type.strip():
        return Malformed("its eventType is not a string")
    topic = event.topic
    if topic is not None and not isinstance(topic, str):
        return Malformed("its topic is not a string")
    data = event.get_json()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Malformed(f"its data is {_kind(data)}, not a JSON object")
    if nesting(data) > MAX_DEPTH:
        return Malformed(f"its data nests deeper than {MAX_DEPTH} levels")
    try:
        size = len(json.dumps(data))
    except (TypeError, ValueError, RecursionError):
        return Malformed("its data is not plain JSON")
    if size > MAX_EVENT_BYTES:
        return Malformed(f"its data is {size:,} bytes, over Event Grid's 1 MB event limit")
    return Envelope(event_id, event_type, topic or "", data)


def resource_uri(data: dict[str, Any]) -> str | Malformed:
    """The `resourceUri` of a `Microsoft.Resources.*` event: a non-empty, short string."""
    uri = data.get("resourceUri")
    if not isinstance(uri, str) or not uri.strip():
        return Malformed(f"its data.resourceUri is {_kind(uri)}, not a resource id")
    if len(uri) > MAX_RESOURCE_URI_CHARS:
        return Malformed(f"its data.resourceUri is {len(uri):,} characters, not a resource id")
    return uri


def registry_push(data: dict[str, Any], registry_host: str | None) -> RegistryPush | Malformed:
    """What a `Microsoft.ContainerRegistry.ImagePushed` / `ChartPushed` event pushed.

    `registry_host` is the host the topic names (`<name>.azurecr.io`), used when the event has
    no `request.host` (ChartPushed has none)."""
    target = data.get("target")
    request = data.get("request", {})
    if not isinstance(target, dict):
        return Malformed(f"its data.target is {_kind(target)}, not an object")
    if request is None:
        request = {}
    if not isinstance(request, dict):
        return Malformed(f"its data.request is {_kind(request)}, not an object")
    repository, tag, digest = target.get("repository"), target.get("tag"), target.get("digest")
    host = request.get("host") or registry_host
    if not isinstance(repository, str) or not repository:
        return Malformed(f"its data.target.repository is {_kind(repository)}, not a name")
    if not isinstance(tag, str) or not tag:
        return Malformed(f"its data.target.tag is {_kind(tag)}, not a tag")
    if digest is not None and not isinstance(digest, str):
        return Malformed(f"its data.target.digest is {_kind(digest)}, not a digest")
    if not isinstance(host, str) or not host:
        return Malformed("it names no registry (data.request.host, or a registry topic)")
    push = RegistryPush(host.lower(), repository, tag, digest or None)
    try:
        OciRef.parse(push.revision)
    except RevisionError:
        return Malformed(f"its tag and digest {cut(push.revision, 120)!r} are not an OCI reference")
    return push


def _kind(value: Any) -> str:
    """How a message names what it found: `a list`, `null`, `a number`, `a string`."""
    if value is None:
        return "missing or null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
