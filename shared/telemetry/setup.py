"""Turning telemetry on, once per process, as the app starts (`check_settings_at_start`).

    APPLICATIONINSIGHTS_CONNECTION_STRING set   Azure Monitor's distro: traces and metrics
                                                (the log lines already reach Application
                                                Insights through the Functions host), unless
                                                ARCWAVE_OTEL_EXPORTER=none
    ARCWAVE_OTEL_EXPORTER=console               spans and metrics printed on stdout
    ARCWAVE_OTEL_EXPORTER=otlp                  spans, metrics and logs over OTLP/HTTP to
                                                OTEL_EXPORTER_OTLP_ENDPOINT
    ARCWAVE_OTEL_EXPORTER=file:/PATH.jsonl      spans and metrics as JSON lines (`jsonl`)
    otherwise                                   nothing: OpenTelemetry's no-op tracer and meter

Metrics are exported every `OTEL_METRIC_EXPORT_INTERVAL` milliseconds (OpenTelemetry's own
setting; 60000 unless set). The exporters' packages load only when they are used.
"""

import logging
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)

from shared.settings import TelemetrySettings
from shared.telemetry import names
from shared.telemetry.jsonl import JsonLines, MetricLines, SpanLines
from shared.telemetry.spans import ROLLOUT_KEY
from shared.version import __version__

log = logging.getLogger("arcwave.telemetry")

LOGGER = "arcwave"
"""The loggers whose records become OpenTelemetry logs (arcwave's own, not the SDKs')."""
QUIET_INSTRUMENTATIONS = ("django", "fastapi", "flask", "psycopg2", "requests", "urllib", "urllib3")
"""The distro's library instrumentations arcwave has no use for: it serves no web framework,
and its HTTP calls are already spans (arcwave's ARM spans, azure-core's own)."""

_configured: str | None = None


class RolloutIds(SpanProcessor):
    """Puts the running activity's rollout id on every span started under it, the Azure SDK's
    own (Cosmos DB, Key Vault, ARM) included."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        rollout = otel_context.get_value(ROLLOUT_KEY, parent_context)
        if isinstance(rollout, str) and names.ROLLOUT_ID not in (span.attributes or {}):
            span.set_attribute(names.ROLLOUT_ID, rollout)


def configure(settings: TelemetrySettings) -> str:
    """Install the tracer and meter providers `settings` name; what was installed (`none`
    included). Once per process: a second call changes nothing."""
    global _configured
    if _configured is not None:
        return _configured
    if settings.exporter == "azure-monitor":
        _azure_monitor()
    elif settings.exporter != "none":
        _sdk(settings)
    _configured = settings.exporter
    if settings.exporter != "none":
        log.info("telemetry: exporting to %s", settings.exporter)
    return _configured


def _azure_monitor() -> None:
    # The distro reads APPLICATIONINSIGHTS_CONNECTION_STRING, and signs in with the managed
    # identity that APPLICATIONINSIGHTS_AUTHENTICATION_STRING names (local auth is off).
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(
        # The host already sends the worker's log lines to Application Insights (`traces`):
        # exporting them here too would write each line twice.
        disable_logging=True,
        # Every span, not the distro's default of 5 traces a second: a rollout's view must be
        # whole. OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG still win when set.
        sampling_ratio=1.0,
        span_processors=[RolloutIds()],
        instrumentation_options={name: {"enabled": False} for name in QUIET_INSTRUMENTATIONS},
    )


def _sdk(settings: TelemetrySettings) -> None:
    resource = Resource.create({"service.name": "arcwave", "service.version": __version__})
    tracing = TracerProvider(resource=resource)
    tracing.add_span_processor(RolloutIds())
    readers: list[MetricReader] = []
    if settings.exporter == "console":
        tracing.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
    elif settings.exporter == "file" and settings.file_path is not None:
        lines = JsonLines(settings.file_path)
        tracing.add_span_processor(SimpleSpanProcessor(SpanLines(lines)))
        readers.append(PeriodicExportingMetricReader(MetricLines(lines)))
    elif settings.exporter == "otlp":
        readers.append(_otlp(tracing, resource))
    trace.set_tracer_provider(tracing)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))


def _otlp(tracing: TracerProvider, resource: Resource) -> MetricReader:
    """Spans, metrics and the `arcwave` loggers' records over OTLP/HTTP; the exporters read
    `OTEL_EXPORTER_OTLP_*` (endpoint, headers, timeout) themselves."""
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.logging.handler import LoggingHandler
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    tracing.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logs)
    handler: Any = LoggingHandler(logger_provider=logs)
    logging.getLogger(LOGGER).addHandler(handler)
    return PeriodicExportingMetricReader(OTLPMetricExporter())
