"""The demo's trace summary (`arcwave demo --telemetry console`): devhost prints each span as
OpenTelemetry's console exporter writes it (an indented JSON object in its log); this reads
them back and tells whether the first rollout is one trace from its GitHub push to its last
cluster write, and which of arcwave's metrics were exported (docs/telemetry.md)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.telemetry import names

PUSH_SPAN = "POST /api/hooks/{provider}"
WRITE_METHODS = ("PUT", "PATCH")
SERVER = "SpanKind.SERVER"
"""How the console exporter names the kind of a span serving an HTTP call."""


@dataclass(frozen=True)
class RolloutTrace:
    """What the log says of one rollout's trace."""

    rollout_id: str
    trace_ids: frozenset[str]
    """Every trace id among the push and the rollout's work (hand-over, activities, ARM
    calls): one when all is linked. Operator calls that read the rollout are traces of their
    own."""
    spans: int
    push: dict[str, Any] | None
    last_write: dict[str, Any] | None
    metrics: frozenset[str]
    """The `arcwave.*` instruments exported at least once."""

    @property
    def whole(self) -> bool:
        """One trace, from the push to the last cluster write."""
        return (
            self.push is not None
            and self.last_write is not None
            and self.trace_ids == {self.push["context"]["trace_id"]}
        )


def exported(text: str) -> Iterator[dict[str, Any]]:
    """Each JSON object the console exporter printed (spans and metric exports) in `text`,
    skipping the log lines around them."""
    decoder = json.JSONDecoder()
    position = 0
    while (start := text.find("\n{", position)) != -1:
        try:
            item, end = decoder.raw_decode(text, start + 1)
        except json.JSONDecodeError:
            position = start + 1
            continue
        position = end
        if isinstance(item, dict):
            yield item


def rollout_trace(log: Path, rollout_id: str) -> RolloutTrace:
    """Read devhost's log for the spans of `rollout_id` and the metrics exported."""
    spans: list[dict[str, Any]] = []
    metrics: set[str] = set()
    for item in exported("\n" + log.read_text(errors="replace")):
        if "resource_metrics" in item:
            metrics.update(_instruments(item))
        elif "context" in item and "name" in item:
            spans.append(item)
    named = [s for s in spans if (s.get("attributes") or {}).get(names.ROLLOUT_ID) == rollout_id]
    pushes = [s for s in named if s["name"] == PUSH_SPAN]
    mine = pushes[:1] + [s for s in named if s.get("kind") != SERVER]
    writes = [
        s
        for s in mine
        if s["name"].startswith("ARM ")
        and (s.get("attributes") or {}).get(names.HTTP_METHOD) in WRITE_METHODS
    ]
    return RolloutTrace(
        rollout_id=rollout_id,
        trace_ids=frozenset(s["context"]["trace_id"] for s in mine),
        spans=len(mine),
        push=pushes[0] if pushes else None,
        last_write=max(writes, key=lambda s: s.get("end_time") or "") if writes else None,
        metrics=frozenset(metrics),
    )


def _instruments(export: dict[str, Any]) -> Iterator[str]:
    for resource in export.get("resource_metrics") or []:
        for scope in resource.get("scope_metrics") or []:
            for metric in scope.get("metrics") or []:
                name = metric.get("name")
                if isinstance(name, str) and name.startswith("arcwave."):
                    yield name
