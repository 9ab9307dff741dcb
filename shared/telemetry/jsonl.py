"""A JSON-lines file as a telemetry destination (`ARCWAVE_OTEL_EXPORTER=file:/PATH.jsonl`).

Each finished span is one line (the SDK's own JSON of a span: `name`, `context`, `kind`,
`parent_id`, `attributes`, `links`...), written as it ends; each metrics export is one line
(`resource_metrics`: every instrument with its points, cumulative). Simple to read back in a
test or with `jq`; not meant for production.
"""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class JsonLines:
    """One file appended to a line at a time, from any thread."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line.replace("\n", " ") + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class SpanLines(SpanExporter):
    def __init__(self, lines: JsonLines) -> None:
        self.lines = lines

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self.lines.write(span.to_json(indent=None))
        return SpanExportResult.SUCCESS


class MetricLines(MetricExporter):
    def __init__(self, lines: JsonLines) -> None:
        super().__init__()
        self.lines = lines

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.lines.write(metrics_data.to_json(indent=None))
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None
