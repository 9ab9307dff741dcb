"""The five containers of the state store, their partition keys and TTLs, and safe ids.

| container  | partition key | TTL (default)  | documents                                         |
|------------|---------------|----------------|---------------------------------------------------|
| tracks     | /id           | off            | one per track: spec, revisions, active rollout    |
| rollouts   | /track        | off            | one per rollout: trigger, plan summary, waves     |
| clusters   | /track        | off            | one per (track, cluster): revisions, state        |
| timeline   | /rolloutId    | 90 days        | audit entries of one rollout                      |
| deliveries | /source       | 7 days         | webhook and event ids seen, for dedupe            |

Ids. Cosmos DB refuses `/`, `\\`, `?` and `#` in an id, and ARM ids are full of `/`.
`encode_id` escapes those four and `~` itself as `~XX` (the character's hex code, as
percent-encoding does, with `~`, which URLs never re-encode), so ids stay readable and decode
exactly: `/subscriptions/s1/...` becomes `~2Fsubscriptions~2Fs1~2F...`. An encoded id longer
than Cosmos's 1,023 bytes becomes `~h` + the SHA-256 of the text instead, which cannot be
decoded; documents always carry the original value in a field of their own (`clusterId`).
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.store.base import Document, StoreMisconfigured, body_of

DAY = 24 * 60 * 60
DEFAULT_TIMELINE_TTL = 90 * DAY
DEFAULT_DELIVERY_TTL = 7 * DAY

TRACKS = "tracks"
ROLLOUTS = "rollouts"
CLUSTERS = "clusters"
TIMELINE = "timeline"
DELIVERIES = "deliveries"

MAX_ID_BYTES = 1023
_ESCAPED = {"/", "\\", "?", "#", "~"}
_ESCAPES = [("~", "~7E")] + [(c, f"~{ord(c):02X}") for c in sorted(_ESCAPED - {"~"})]
"""`~` first, so the escapes that follow are not escaped again."""
_ESCAPE = re.compile(r"~([0-9A-F]{2})")
_HASHED = "~h"


@dataclass(frozen=True)
class ContainerSpec:
    """One container: its name, the field that partitions it and its default TTL.

    `default_ttl` is None when TTL is off (item `ttl` fields are then ignored, as in Cosmos),
    -1 when it is on without a default, or the seconds after the last write an item lives.
    """

    name: str
    partition_key: str
    default_ttl: int | None = None

    @property
    def partition_key_path(self) -> str:
        return f"/{self.partition_key}"


@dataclass(frozen=True)
class Layout:
    """The five containers, with the TTLs of timeline and deliveries configurable."""

    timeline_ttl: int = DEFAULT_TIMELINE_TTL
    delivery_ttl: int = DEFAULT_DELIVERY_TTL

    def __post_init__(self) -> None:
        for name, value in (
            ("timeline_ttl", self.timeline_ttl),
            ("delivery_ttl", self.delivery_ttl),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise StoreMisconfigured(
                    f"{name} must be a positive number of seconds, got {value!r}"
                )

    @property
    def containers(self) -> tuple[ContainerSpec, ...]:
        return (
            ContainerSpec(TRACKS, "id"),
            ContainerSpec(ROLLOUTS, "track"),
            ContainerSpec(CLUSTERS, "track"),
            ContainerSpec(TIMELINE, "rolloutId", self.timeline_ttl),
            ContainerSpec(DELIVERIES, "source", self.delivery_ttl),
        )

    def spec(self, name: str) -> ContainerSpec:
        for spec in self.containers:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.containers)
        raise ValueError(f"unknown container '{name}'; the store has: {known}")


def encode_id(text: str) -> str:
    """An id Cosmos accepts for `text`: readable, and reversible unless it had to be hashed."""
    if not text:
        raise ValueError("an id must not be empty")
    encoded = text
    for char, escape in _ESCAPES:  # str.replace: a plan encodes every cluster id of a fleet
        encoded = encoded.replace(char, escape)
    if len(encoded.encode("utf-8")) > MAX_ID_BYTES:
        return _HASHED + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return encoded


def decode_id(encoded: str) -> str:
    """The text `encode_id` was given; `ValueError` for a hashed id."""
    if encoded.startswith(_HASHED):
        raise ValueError(f"id '{encoded}' is a hash; read the original from the document")
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), encoded)


def keys_of(spec: ContainerSpec, doc: Mapping[str, Any]) -> tuple[Document, str, str]:
    """The document to write (without store-owned fields), its partition key and its id."""
    body = body_of(doc)
    id = body.get("id")
    pk = body.get(spec.partition_key)
    if not isinstance(id, str) or not id:
        raise ValueError(f"a document in '{spec.name}' needs a non-empty string 'id'")
    if not isinstance(pk, str) or not pk:
        raise ValueError(
            f"document '{id}' in '{spec.name}' needs its partition key "
            f"'{spec.partition_key}' as a non-empty string"
        )
    return body, pk, id
