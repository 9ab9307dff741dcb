"""Traces and metrics, read back from in-memory exporters while the real code runs: a signed
GitHub push through the webhook trigger into the real orchestrators and activities (the
orchestrator world's engine on a virtual clock), ARM writes through the fleet gateway, an
Event Grid event, an operator call that fails. With nothing configured, the same code runs on
OpenTelemetry's no-op tracer and meter. No secret ever reaches a span.
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import SecretStr

from shared import telemetry
from shared.adapters.arm import StaticTokenCredential
from shared.adapters.fleet import FleetGateway
from shared.contracts.activities import TRACEPARENT
from shared.settings import Settings, SettingsError, StoreSettings, TelemetrySettings
from shared.telemetry import names, providers, setup
from shared.telemetry.jsonl import JsonLines, MetricLines, SpanLines
from shared.telemetry.setup import RolloutIds
from tests.e2e.rollout_support import WEBHOOK_SECRET, github_push, signed_github
from tests.support import SECRETS, secret
from tests.unit.orchestrators.world import GOOD, EngineClient, Harness, run_world
from tests.unit.test_arm_errors import arm_error
from triggers import events, git
from triggers.http import guarded

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

SUB = "00000000-0000-0000-0000-000000000001"
FUNCTION_KEY = secret("a function key in a query string", "function-key-0123456789abcdef")


@dataclass
class Captured:
    spans_out: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.spans_out.get_finished_spans() if name in (None, s.name)]

    def points(self, metric: str) -> list[tuple[dict[str, Any], Any]]:
        """Each data point of `metric`: its attributes and the point (cumulative)."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        found += [(dict(p.attributes or {}), p) for p in m.data.data_points]
        return found

    def total(self, metric: str, **attributes: object) -> float:
        """The sum (counters) or count (histograms) of `metric`'s points matching `attributes`."""
        keyed = {f"arcwave.{k}" if "." not in k else k: v for k, v in attributes.items()}
        return sum(
            getattr(p, "count", None) or getattr(p, "value", 0)
            for attrs, p in self.points(metric)
            if all(attrs.get(k) == v for k, v in keyed.items())
        )


@pytest.fixture
def otel() -> Iterator[Captured]:
    """In-memory tracer and meter providers, as arcwave's for the test (the global ones stay
    untouched), with the rollout-id processor the app installs."""
    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(RolloutIds())
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    with providers.using(tracing, MeterProvider(metric_readers=[reader])):
        yield Captured(spans, reader)


def no_secret_in(spans: list[ReadableSpan]) -> None:
    """No registered secret shows in any span: attributes, events, links, names."""
    for span in spans:
        text = span.to_json(indent=None)
        for value, name in SECRETS.items():
            assert value not in text, f"{name} is on span {span.name}"


def handler_of(builder: Any) -> Any:
    """The `guarded` handler under a registered HTTP trigger's durable-client wrapper."""
    return builder._function._func.__wrapped__


# -- a push, all the way -----------------------------------------------------------------------


def push(h: Harness, delivery: str, commit: str = GOOD) -> func.HttpResponse:
    """A signed GitHub push through the real webhook trigger, on the world's engine."""
    body = json.dumps(github_push(commit, previous="0" * 40)).encode()
    req = func.HttpRequest(
        method="POST",
        url="http://127.0.0.1:7071/api/hooks/github",
        headers=signed_github(body, delivery),
        params={},
        route_params={"provider": "github"},
        body=body,
    )
    response: func.HttpResponse = asyncio.run(
        handler_of(git.git_webhook)(req, EngineClient(h.engine))
    )
    return response


@pytest.fixture
def h(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """The orchestrator world (two canaries, six broad clusters), its runtime also the
    webhook trigger's, with the webhook secret set."""
    for harness in run_world(tmp_path):
        harness.fleet.add("canary-1", ring="canary", site="site-1")
        harness.fleet.add("canary-2", ring="canary", site="site-2")
        for i in range(1, 7):
            harness.fleet.add(f"store-{i}", ring="broad", site=f"site-{1 + i % 2}")
        harness.world.register(
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}, "soak": "10m"},
                {"name": "broad", "maxConcurrency": 2, "maxFailures": 1},
            ]
        )
        rt = harness.world.rt
        rt.settings = rt.settings.model_copy(
            update={"webhook_secrets": {"*": SecretStr(WEBHOOK_SECRET)}}
        )
        monkeypatch.setattr(git, "runtime", lambda rt=rt: rt)
        yield harness


def test_a_push_is_one_delivery_span_and_every_activity_span_carries_its_rollout(
    otel: Captured, h: Harness
) -> None:
    response = push(h, "delivery-1")
    assert response.status_code == 202, response.get_body()
    [handed] = json.loads(response.get_body())["tracks"]
    rollout_id = handed["rolloutId"]

    [delivery] = otel.spans("POST /api/hooks/{provider}")
    attributes = dict(delivery.attributes or {})
    assert delivery.kind is SpanKind.SERVER
    assert attributes[names.HTTP_ROUTE] == "/api/hooks/{provider}"
    assert attributes[names.PROVIDER] == "github"
    delivery_id = attributes[names.DELIVERY_ID]  # derived from the signed body: the dedupe key
    assert str(delivery_id).startswith("github-")
    assert attributes[names.HTTP_STATUS] == 202
    assert attributes[names.OUTCOME] == "handed"
    assert attributes[names.ROLLOUT_ID] == rollout_id
    [hand_over] = otel.spans("hand over")
    assert hand_over.parent is not None and hand_over.parent.span_id == delivery.context.span_id
    assert (hand_over.attributes or {})[names.TRACK] == "baseline"
    assert otel.total(names.WEBHOOK_DURATION, provider="github", outcome="handed") == 1

    rollout = h.settle(rollout_id, "Succeeded", "Failed", "RolledBack")
    assert rollout.state.value == "Succeeded", rollout.message
    assert rollout.trigger.delivery_id == delivery_id  # the trace context is not recorded

    activities = [s for s in otel.spans() if (s.attributes or {}).get(names.ACTIVITY)]
    assert {s.name for s in activities} >= {"plan_rollout", "advance_wave", "record_progress"}
    for span in activities:
        assert span.kind is SpanKind.CONSUMER
        assert (span.attributes or {})[names.ROLLOUT_ID] == rollout_id, span.name
        # one trace: the push, its hand-over, then every activity as the hand-over's child
        assert span.parent is not None and span.parent.span_id == hand_over.context.span_id
        assert span.context.trace_id == delivery.context.trace_id, span.name
    waves = {(s.attributes or {}).get(names.WAVE) for s in otel.spans("advance_wave")}
    assert waves == {"canary", "broad"}
    steps = {(s.attributes or {}).get(names.STEP) for s in otel.spans("record_progress")}
    assert {"started", "planned", "wave/canary/soaking", "succeeded"} <= steps

    assert otel.total(names.ROLLOUTS, state="Running", track="baseline") >= 1
    assert otel.total(names.ROLLOUTS, state="Succeeded", reason="RolloutSucceeded") == 1
    assert otel.total(names.CLUSTER_TRANSITIONS, state="Healthy") >= 8
    [(gate, soak)] = otel.points(names.GATE_DURATION)
    assert gate == {names.GATE: "soak", names.TRACK: "baseline", names.WAVE: "canary"}
    assert soak.count == 1 and 600 <= soak.sum < 700
    no_secret_in(otel.spans())


def test_a_redelivery_is_a_duplicate_and_hands_nothing_over(otel: Captured, h: Harness) -> None:
    assert push(h, "delivery-1").status_code == 202
    assert json.loads(push(h, "delivery-1").get_body()) == {"duplicate": True}
    assert otel.total(names.WEBHOOK_DURATION, provider="github", outcome="duplicate") == 1
    assert len(otel.spans("hand over")) == 1


def test_a_bad_signature_is_refused_on_the_span_and_in_the_webhook_metric(
    otel: Captured, h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = secret("a sender's wrong webhook secret", "wrong-webhook-secret-value")
    body = json.dumps(github_push(GOOD)).encode()
    req = func.HttpRequest(
        method="POST",
        url="http://127.0.0.1:7071/api/hooks/github",
        headers=signed_github(body, "delivery-9", secret=wrong),
        params={},
        route_params={"provider": "github"},
        body=body,
    )
    response = asyncio.run(handler_of(git.git_webhook)(req, EngineClient(h.engine)))
    assert response.status_code == 401
    [span] = otel.spans("POST /api/hooks/{provider}")
    assert (span.attributes or {})[names.OUTCOME] == "refused"
    assert otel.total(names.WEBHOOK_DURATION, provider="github", outcome="refused") == 1
    no_secret_in(otel.spans())


def test_a_retried_activity_says_its_attempt(otel: Captured, h: Harness) -> None:
    start = h.world.clock.time()
    h.fleet.outage = (start, start + 12)
    push(h, "delivery-2")
    [rollout_id] = {
        (s.attributes or {})[names.ROLLOUT_ID] for s in otel.spans("POST /api/hooks/{provider}")
    }
    h.settle(str(rollout_id), "Succeeded", "Failed", "RolledBack")
    attempts = [(s.name, (s.attributes or {}).get(names.ATTEMPT)) for s in otel.spans()]
    assert ("plan_rollout", 2) in attempts
    failed = [s for s in otel.spans("plan_rollout") if not s.status.is_ok]
    assert failed and failed[0].events[0].name == "exception"


def test_an_approval_wait_is_a_gate_duration(otel: Captured, h: Harness) -> None:
    h.world.register(
        waves=[{"name": "canary", "selector": {"ring": "canary"}, "approval": True}, {"name": "b"}]
    )
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "WaitingForApproval")
    h.run_for(timedelta(minutes=30))
    h.command("r1", approvals={"canary": "alice"})
    h.settle("r1", "Succeeded")
    [(gate, waited)] = otel.points(names.GATE_DURATION)
    assert gate[names.GATE] == "approval" and gate[names.WAVE] == "canary"
    timeline = {e.id: e.time for e in h.records.timeline.list("r1")}
    asked, approved = timeline["wave~2Fcanary~2Fapproval"], timeline["wave~2Fcanary~2Fapproved"]
    assert waited.sum == (approved - asked).total_seconds() >= 1800


# -- ARM -----------------------------------------------------------------------------------------


class FluxOperations:
    """The fluxConfigurations operations: PATCH answers 429 once for `throttled`, then 200;
    GET answers 404."""

    def __init__(self, throttled: str) -> None:
        self.throttled = throttled
        self.patched: list[str] = []

    def begin_update(self, rg: str, rp: str, kind: str, name: str, *args: Any, **kw: Any) -> None:
        """`name` is the cluster's (the configuration's comes after it)."""
        if name == self.throttled and self.throttled not in self.patched:
            self.patched.append(name)
            raise arm_error(429, "TooManyRequests", "throttled", {"Retry-After": "0"})
        self.patched.append(name)

    def get(self, *args: Any) -> None:
        raise arm_error(404, "ResourceNotFound", "no such configuration")


def cluster(name: str) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


def gateway(tmp_path: Path, operations: FluxOperations) -> FleetGateway:
    settings = Settings(store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "a.db"))
    fleet = FleetGateway(settings, credential=StaticTokenCredential(), sleep=lambda _: None)
    fleet._configurations = lambda ref: operations  # type: ignore[method-assign]
    return fleet


def test_arm_writes_are_client_spans_under_their_activity_with_its_rollout(
    otel: Captured, tmp_path: Path
) -> None:
    operations = FluxOperations(throttled="c2")
    fleet = gateway(tmp_path, operations)
    clusters = [cluster(f"c{i}") for i in range(1, 4)]
    request = {"rolloutId": "r1", "track": "baseline", "revision": GOOD, "wave": "canary"}
    with telemetry.activity("advance_wave", request) as activity:
        outcomes = fleet.write_many(clusters, "baseline", {"properties": {}}, patch=True)
        assert fleet.read_configuration(clusters[0], "baseline") is None
    assert all(o.ok for o in outcomes)

    writes = otel.spans("ARM PATCH fluxConfigurations")
    assert len(writes) == 4
    for span in writes:
        attributes = dict(span.attributes or {})
        assert span.kind is SpanKind.CLIENT
        assert (
            span.parent is not None and span.parent.span_id == activity.get_span_context().span_id
        )
        assert attributes[names.ROLLOUT_ID] == "r1"
        assert attributes[names.CLUSTER_ID] in clusters
        assert attributes[names.CONFIGURATION] == "baseline"
    throttled = [s for s in writes if (s.attributes or {})[names.THROTTLED]]
    assert [(s.attributes or {})[names.HTTP_STATUS] for s in throttled] == [429]
    assert (throttled[0].attributes or {})[names.OUTCOME] == "Throttled"
    [read] = otel.spans("ARM GET fluxConfigurations")
    assert (read.attributes or {})[names.OUTCOME] == "NotFound"
    assert (read.attributes or {})[names.HTTP_STATUS] == 404

    assert otel.total(names.ARM_WRITES, outcome="ok") == 3
    assert otel.total(names.ARM_WRITES, outcome="Throttled") == 1
    assert otel.total(names.ARM_THROTTLED) == 1
    assert otel.total(names.ARM_DURATION, **{names.HTTP_METHOD: "PATCH"}) == 4
    assert otel.total(names.ARM_DURATION, **{names.HTTP_METHOD: "GET"}) == 1


# -- Event Grid and the operator API ---------------------------------------------------------------


def test_an_event_grid_event_is_a_consumer_span_and_a_webhook_duration(otel: Captured) -> None:
    event = func.EventGridEvent(
        id="event-1",
        data={"resourceUri": cluster("c1")},
        topic="/subscriptions/x",
        subject="s",
        event_type="Microsoft.Resources.ResourceActionSuccess",
        event_time=None,
        data_version="1",
    )
    asyncio.run(events.on_arm_event._function._func.__wrapped__(event, None))
    [span] = otel.spans("on_arm_event")
    attributes = dict(span.attributes or {})
    assert span.kind is SpanKind.CONSUMER
    assert attributes[names.EVENT_ID] == "event-1"
    assert attributes[names.PROVIDER] == "eventgrid"
    assert attributes[names.OUTCOME] == "ignored"
    assert otel.total(names.WEBHOOK_DURATION, provider="eventgrid", outcome="ignored") == 1


def test_an_operator_call_is_named_by_its_route_and_a_bug_is_on_its_span(otel: Captured) -> None:
    @guarded
    async def command(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("a bug")

    req = func.HttpRequest(
        method="POST",
        url=f"http://127.0.0.1:7071/api/rollouts/baseline%3Ar1/pause?code={FUNCTION_KEY}",
        headers={},
        params={"code": FUNCTION_KEY},
        route_params={"id": "baseline:r1", "command": "pause"},
        body=b"",
    )
    assert asyncio.run(command(req)).status_code == 500
    [span] = otel.spans()
    assert span.name == "POST /api/rollouts/{id}/{command}"
    assert (span.attributes or {})[names.HTTP_STATUS] == 500
    assert (span.attributes or {})[names.ROLLOUT_ID] == "baseline:r1"
    assert not span.status.is_ok
    assert [e.name for e in span.events] == ["exception"]
    assert not any(
        (s.attributes or {}).get(names.PROVIDER) for s in otel.spans()
    )  # an operator call is no webhook
    assert otel.points(names.WEBHOOK_DURATION) == []
    no_secret_in(otel.spans())


# -- nothing configured --------------------------------------------------------------------------


def test_with_nothing_configured_everything_runs_on_the_no_op_tracer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(setup, "_configured", None)
    assert setup.configure(TelemetrySettings()) == "none"
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    fleet = gateway(tmp_path, FluxOperations(throttled="nothing"))
    request = {"rolloutId": "r1", "track": "baseline", "revision": GOOD, TRACEPARENT: "junk"}
    with telemetry.activity("advance_wave", request) as span:
        assert not span.is_recording()
        assert telemetry.traceparent() is None
        [outcome] = fleet.write_many([cluster("c1")], "baseline", {}, patch=True)
        telemetry.rollout_state("Running", "RolloutStarted", "baseline")
    assert outcome.ok


# -- settings and the JSON-lines file -----------------------------------------------------------


def telemetry_of(tmp_path: Path, **env: str) -> TelemetrySettings:
    return Settings.from_env({"ARCWAVE_STORE": f"sqlite:///{tmp_path}/a.db", **env}).telemetry


def test_the_exporter_is_chosen_from_the_settings(tmp_path: Path) -> None:
    connection = "InstrumentationKey=00000000-0000-0000-0000-000000000000"
    assert telemetry_of(tmp_path).exporter == "none"
    assert telemetry_of(tmp_path, ARCWAVE_OTEL_EXPORTER="Console").exporter == "console"
    otlp = telemetry_of(
        tmp_path, ARCWAVE_OTEL_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318"
    )
    assert otlp.exporter == "otlp"
    path = tmp_path / "spans.jsonl"
    assert telemetry_of(tmp_path, ARCWAVE_OTEL_EXPORTER=f"file:{path}").file_path == path
    ai = telemetry_of(tmp_path, APPLICATIONINSIGHTS_CONNECTION_STRING=connection)
    assert ai.exporter == "azure-monitor"
    off = telemetry_of(
        tmp_path, APPLICATIONINSIGHTS_CONNECTION_STRING=connection, ARCWAVE_OTEL_EXPORTER="none"
    )
    assert off.exporter == "none"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("otlp", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ("file:relative.jsonl", "file:/ABSOLUTE/PATH.jsonl"),
        ("file:/no/such/folder/x.jsonl", "folder that exists"),
        ("jaeger", "use none, console, otlp or file:"),
    ],
)
def test_a_bad_exporter_setting_stops_the_app_naming_it(
    tmp_path: Path, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match="ARCWAVE_OTEL_EXPORTER") as error:
        telemetry_of(tmp_path, ARCWAVE_OTEL_EXPORTER=value)
    assert says in str(error.value)


def test_the_json_lines_file_holds_one_span_or_metrics_export_a_line(tmp_path: Path) -> None:
    lines = JsonLines(tmp_path / "telemetry.jsonl")
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(SpanLines(lines)))
    reader = InMemoryMetricReader()
    with providers.using(tracing, MeterProvider(metric_readers=[reader])):
        with telemetry.activity("plan_rollout", {"rolloutId": "r1", "track": "t"}):
            telemetry.rollout_state("Running", "RolloutStarted", "t")
        MetricLines(lines).export(reader.get_metrics_data())
    lines.close()
    span, exported = (json.loads(line) for line in (tmp_path / "telemetry.jsonl").open())
    assert span["name"] == "plan_rollout"
    assert span["attributes"][names.ROLLOUT_ID] == "r1"
    [metric] = exported["resource_metrics"][0]["scope_metrics"][0]["metrics"]
    assert metric["name"] == names.ROLLOUTS


AZURE_MONITOR_CHECK = """
from opentelemetry import trace
from shared import telemetry
from shared.settings import TelemetrySettings
from shared.telemetry import setup
print(setup.configure(TelemetrySettings(exporter="azure-monitor")))
print(type(trace.get_tracer_provider()).__module__)
with telemetry.activity("plan_rollout", {"rolloutId": "r1"}):
    with trace.get_tracer("azure-sdk").start_as_current_span("an SDK's call") as call:
        print(dict(call.attributes)["arcwave.rollout.id"])
"""


def test_a_connection_string_turns_on_azure_monitor_with_every_span_sampled() -> None:
    """In a process of its own: the distro installs global providers."""
    env = {
        **os.environ,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey="
        "00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", AZURE_MONITOR_CHECK],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.splitlines()[:3] == ["azure-monitor", "opentelemetry.sdk.trace", "r1"], (
        done.stdout + done.stderr
    )
