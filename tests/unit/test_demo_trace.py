"""`arcwave demo --telemetry console` reads devhost's log back: spans and metric exports exactly
as OpenTelemetry's console exporters print them, between ordinary log lines."""

import io
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from cli.demo.trace import PUSH_SPAN, rollout_trace
from cli.demo.verdict import METRICS, Verdict, judge_trace
from shared.telemetry import names

ROLLOUT = "baseline-abc1234-00000001"


def printed(*, linked: bool) -> str:
    """A devhost log: log lines, a push span, an activity span under it (or, unlinked, in a
    trace of its own), an ARM write under the activity, and one metrics export."""
    out = io.StringIO()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
    tracer = provider.get_tracer("test")
    out.write("2026-12-05 10:00:00 INFO devhost listening\n")
    with tracer.start_as_current_span(
        PUSH_SPAN, kind=trace.SpanKind.SERVER, attributes={names.ROLLOUT_ID: ROLLOUT}
    ) as push:
        pushed = push.get_span_context()
    # an operator reading the rollout: a trace of its own, not part of the rollout's
    with tracer.start_as_current_span(
        "GET /api/rollouts/{id}", kind=trace.SpanKind.SERVER, attributes={names.ROLLOUT_ID: ROLLOUT}
    ):
        pass
    parent = trace.set_span_in_context(trace.NonRecordingSpan(pushed)) if linked else None
    out.write("2026-12-05 10:00:01 INFO decision rollout=x reason=Planned {not json}\n")
    with tracer.start_as_current_span(
        "advance_wave", context=parent, attributes={names.ROLLOUT_ID: ROLLOUT}
    ):
        for cluster in ("canary-1", "canary-2"):
            with tracer.start_as_current_span(
                "ARM PUT fluxConfigurations",
                attributes={
                    names.ROLLOUT_ID: ROLLOUT,
                    names.HTTP_METHOD: "PUT",
                    names.CLUSTER_ID: f"/subscriptions/s/resourceGroups/rg/providers/x/{cluster}",
                },
            ):
                pass
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    for name in METRICS:
        meters.get_meter("arcwave").create_counter(name).add(1)
    data = reader.get_metrics_data()
    assert data is not None
    ConsoleMetricExporter(out=out).export(data)
    out.write("2026-12-05 10:00:09 INFO devhost stopping\n")
    return out.getvalue()


def test_a_linked_rollout_is_one_trace_from_its_push_to_its_last_write(tmp_path: Path) -> None:
    log = tmp_path / "devhost.log"
    log.write_text(printed(linked=True))
    found = rollout_trace(log, ROLLOUT)
    assert found.whole and found.spans == 4 and len(found.trace_ids) == 1
    assert found.last_write is not None
    assert found.last_write["attributes"][names.CLUSTER_ID].endswith("canary-2")
    assert found.metrics == set(METRICS)
    verdict = Verdict()
    judge_trace(verdict, found, log)
    assert verdict.passed, verdict.problems
    assert any("one trace" in fact and "canary-2" in fact for fact in verdict.facts)


def test_spans_in_two_traces_fail_the_demo(tmp_path: Path) -> None:
    log = tmp_path / "devhost.log"
    log.write_text(printed(linked=False))
    found = rollout_trace(log, ROLLOUT)
    assert not found.whole and len(found.trace_ids) == 2
    verdict = Verdict()
    judge_trace(verdict, found, log)
    assert verdict.problems == [f"rollout {ROLLOUT}'s spans are in 2 traces, not one"]


def test_no_spans_and_no_metrics_are_named(tmp_path: Path) -> None:
    log = tmp_path / "devhost.log"
    log.write_text("INFO only log lines\n{ broken\n")
    verdict = Verdict()
    judge_trace(verdict, rollout_trace(log, ROLLOUT), log)
    assert verdict.problems[0] == f"{log} holds no push span of rollout {ROLLOUT}"
    assert verdict.problems[1].startswith("metrics not exported: arcwave.rollouts")
