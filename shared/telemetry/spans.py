"""arcwave's spans.

- one per delivery or operator call, at the trigger: `serving` (HTTP: Git webhooks, Flux
  events, the operator API; opened by `triggers.http.guarded`) and `receiving` (Event Grid),
  with `annotate` for what the handler learns on the way (provider, delivery id, outcome);
- one per rollout handed to its track (`handover`), whose W3C trace context (`traceparent`)
  goes into the rollout's trigger: the orchestrators copy the string into every activity's
  request, and each activity's span is a child of the hand-over, so a rollout is one trace
  from the delivery that started it to its last ARM write;
- one per activity (`activity`), carrying the rollout id, wave and attempt, and making the
  rollout id current for what the activity calls;
- one per ARM or Resource Graph call (`arm_call`), carrying the rollout id of the activity it
  runs in, the cluster, the outcome and the HTTP status (429s marked throttled).

Every span of a rollout also carries `arcwave.rollout.id`, which finds it when no trace
context was carried (a rollout started before telemetry was on). Orchestrators never make
spans (they replay).
Nothing here holds a body, a header or a query string: no secret can reach an attribute.
"""

import contextlib
import contextvars
import functools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from shared.contracts.activities import TRACEPARENT
from shared.telemetry import meters, names
from shared.telemetry.providers import tracer_provider

P = ParamSpec("P")
R = TypeVar("R")

ROLLOUT_KEY = otel_context.create_key(names.ROLLOUT_ID)
"""Where the rollout id of the running activity sits in the OpenTelemetry context."""
_PROPAGATOR = TraceContextTextMapPropagator()

ANNOTATIONS = {
    "provider": names.PROVIDER,
    "delivery_id": names.DELIVERY_ID,
    "event_id": names.EVENT_ID,
    "event_type": names.EVENT_TYPE,
    "track": names.TRACK,
    "rollout_id": names.ROLLOUT_ID,
    "revision": names.REVISION,
    "outcome": names.OUTCOME,
}
"""What a handler may say about its delivery (`annotate`), by keyword."""
ROUTE_PARAMETERS = {"id": names.ROLLOUT_ID, "name": names.TRACK}
"""The operator API's route parameters that name a rollout (`rollouts/{id}`) or a track
(`tracks/{name}`): on the call's span as they are."""


def tracer() -> trace.Tracer:
    return trace.get_tracer(names.SCOPE, tracer_provider=tracer_provider())


def _attributes(values: Mapping[str, object]) -> dict[str, AttributeValue]:
    """Span attributes from `values`, those that are None or empty left out."""
    kept: dict[str, AttributeValue] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        kept[key] = value if isinstance(value, str | bool | int | float) else str(value)
    return kept


# -- deliveries and operator calls --------------------------------------------------------------


@dataclass
class Exchange:
    """One delivery or operator call being answered: its span and what the handler said."""

    span: Span
    provider: str | None = None
    outcome: str | None = None
    status: int | None = None
    rollout: str | None = None
    """The rollout the call is about (its route names it)."""
    rollouts: list[str] = field(default_factory=list)
    """The rollouts it handed over."""

    def answered(self, status: int) -> None:
        self.status = status
        self.span.set_attribute(names.HTTP_STATUS, status)
        if status >= 500:
            self.span.set_status(StatusCode.ERROR, f"answered {status}")

    def failed(self, error: BaseException) -> None:
        """An error the handler answered for (a 500): kept on the span with its traceback."""
        self.span.record_exception(error)
        self.outcome = self.outcome or "error"

    def close(self, seconds: float) -> None:
        handed = [r for r in self.rollouts if r != self.rollout]
        if self.rollout is None and len(handed) == 1:
            self.span.set_attribute(names.ROLLOUT_ID, handed[0])
        elif handed:
            self.span.set_attribute(names.ROLLOUT_IDS, handed)
        if self.provider is not None:
            outcome = self.outcome or _outcome_of(self.status)
            meters.webhook_answered(self.provider, outcome, self.status, seconds)


def _outcome_of(status: int | None) -> str:
    if status is None:
        return "error"
    return f"{status // 100}xx"


_EXCHANGE: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "arcwave_exchange", default=None
)


@contextlib.contextmanager
def _exchange(
    name: str, kind: SpanKind, attributes: Mapping[str, object], provider: str | None
) -> Iterator[Exchange]:
    started = time.perf_counter()
    with tracer().start_as_current_span(
        name, kind=kind, attributes=_attributes(attributes)
    ) as span:
        exchange = Exchange(span, provider=provider)
        token = _EXCHANGE.set(exchange)
        try:
            yield exchange
        except BaseException:
            exchange.outcome = exchange.outcome or "error"
            raise
        finally:
            _EXCHANGE.reset(token)
            exchange.close(time.perf_counter() - started)


def route_of(url: str, route_params: Mapping[str, str]) -> str:
    """The route template of a request (`/api/hooks/{provider}`): its path with each segment
    that is a route parameter's value named by the parameter; never the query string."""
    by_value = {value: key for key, value in route_params.items() if value}
    segments = urlsplit(url).path.split("/")
    named = [f"{{{by_value[unquote(s)]}}}" if unquote(s) in by_value else s for s in segments]
    return "/".join(named) or "/"


@contextlib.contextmanager
def serving(method: str, url: str, route_params: Mapping[str, str]) -> Iterator[Exchange]:
    """A SERVER span for one HTTP call (`triggers.http.guarded`): `<METHOD> <route>`, with
    the rollout or track its route names."""
    route = route_of(url, route_params)
    attributes = {names.HTTP_METHOD: method, names.HTTP_ROUTE: route}
    named = {ROUTE_PARAMETERS[k]: v for k, v in route_params.items() if k in ROUTE_PARAMETERS}
    with _exchange(f"{method} {route}", SpanKind.SERVER, attributes | named, None) as exchange:
        exchange.rollout = named.get(names.ROLLOUT_ID) or None
        yield exchange


@contextlib.contextmanager
def receiving(name: str, provider: str, **values: str | None) -> Iterator[Exchange]:
    """A CONSUMER span for one pushed event (Event Grid): `values` as in `annotate`."""
    attributes = {ANNOTATIONS[k]: v for k, v in values.items()} | {names.PROVIDER: provider}
    with _exchange(name, SpanKind.CONSUMER, attributes, provider) as exchange:
        yield exchange


def failed(error: BaseException) -> None:
    """The delivery or call being answered failed in arcwave itself (answered 500): the
    error goes on its span."""
    exchange = _EXCHANGE.get()
    if exchange is not None:
        exchange.failed(error)


def annotate(**values: str | None) -> None:
    """Say on the delivery's span what the handler learnt (`ANNOTATIONS`' keywords); the
    `provider` makes the answer's time count as a webhook's, under its `outcome` (the first
    one said)."""
    exchange = _EXCHANGE.get()
    span = exchange.span if exchange is not None else trace.get_current_span()
    for key, value in values.items():
        if value is None:
            continue
        if exchange is not None and key == "outcome":
            if exchange.outcome is not None:
                continue  # the first said is the most precise (`duplicate` before `none`)
            exchange.outcome = value
        if exchange is not None and key == "provider":
            exchange.provider = value
        span.set_attribute(ANNOTATIONS[key], value)


def traceparent() -> str | None:
    """The W3C `traceparent` of the current span; None when nothing is traced."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def handover(track: str, rollout_id: str, revision: str) -> Iterator[str | None]:
    """A span for one revision handed to its track; yields its `traceparent` for the
    rollout's trigger (None when nothing is traced)."""
    exchange = _EXCHANGE.get()
    if exchange is not None and rollout_id not in exchange.rollouts:
        exchange.rollouts.append(rollout_id)
    attributes = {names.TRACK: track, names.ROLLOUT_ID: rollout_id, names.REVISION: revision}
    with tracer().start_as_current_span("hand over", attributes=_attributes(attributes)):
        yield traceparent()


# -- activities ---------------------------------------------------------------------------------


def _handed_over(fields: Mapping[str, object]) -> otel_context.Context | None:
    """The context of the span that handed the rollout over, from the request's
    `traceparent`: the parent of the activity's span. None when none was carried."""
    trigger = fields.get("trigger")
    carried = fields.get(TRACEPARENT) or (
        trigger.get(TRACEPARENT) if isinstance(trigger, Mapping) else None
    )
    if not isinstance(carried, str):
        return None
    extracted = _PROPAGATOR.extract({"traceparent": carried})
    valid = trace.get_current_span(extracted).get_span_context().is_valid
    return extracted if valid else None


@contextlib.contextmanager
def activity(name: str, request: object) -> Iterator[Span]:
    """A span for one activity run: its rollout, track, revision, wave, step and attempt
    from the request; the rollout id current for every span under it (ARM calls)."""
    fields: Mapping[str, object] = request if isinstance(request, Mapping) else {}
    rollout = fields.get("rolloutId")
    attempt = fields.get("attempt", 1)
    attributes = {
        names.ACTIVITY: name,
        names.ROLLOUT_ID: rollout,
        names.TRACK: fields.get("track"),
        names.REVISION: fields.get("revision"),
        names.WAVE: fields.get("wave"),
        names.STEP: fields.get("key"),
        names.ATTEMPT: attempt if isinstance(attempt, int) else 1,
    }
    parent = _handed_over(fields)
    token = (
        otel_context.attach(otel_context.set_value(ROLLOUT_KEY, rollout))
        if isinstance(rollout, str)
        else None
    )
    try:
        with tracer().start_as_current_span(
            name,
            kind=SpanKind.CONSUMER,
            context=parent,
            attributes=_attributes(attributes),
        ) as span:
            yield span
    finally:
        if token is not None:
            otel_context.detach(token)


def current_rollout() -> str | None:
    """The rollout id of the activity running here, if any."""
    value = otel_context.get_value(ROLLOUT_KEY)
    return value if isinstance(value, str) else None


def carried(work: Callable[P, R]) -> Callable[P, R]:
    """`work`, run in the OpenTelemetry context current now: for a thread pool's workers,
    which do not inherit it, so that their spans keep their parent and rollout id."""
    captured = otel_context.get_current()

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        token = otel_context.attach(captured)
        try:
            return work(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return run


# -- ARM ----------------------------------------------------------------------------------------


@dataclass
class ArmCall:
    """One ARM call under way: what it ended as."""

    span: Span
    outcome: str = "ok"
    status: int | None = None

    def failed(self, error: BaseException, kind: str) -> None:
        """The call failed: `kind` is arcwave's name for it (`Throttled`, `Transient`,
        `NotFound`...); the HTTP status is read off the Azure error when it has one."""
        self.outcome = kind
        status = getattr(error, "status_code", None)
        self.status = status if isinstance(status, int) else self.status
        self.span.set_status(StatusCode.ERROR, kind)
        self.span.record_exception(error)


@contextlib.contextmanager
def arm_call(
    method: str,
    operation: str,
    *,
    cluster_id: str | None = None,
    configuration: str | None = None,
    attempt: int | None = None,
    classify: Callable[[Exception], str] | None = None,
) -> Iterator[ArmCall]:
    """A CLIENT span (`ARM <METHOD> <operation>`) and the ARM metrics for one call; an error
    that escapes is named by `classify` (its class's name by default)."""
    attributes = {
        names.ROLLOUT_ID: current_rollout(),
        names.HTTP_METHOD: method,
        names.ARM_OPERATION: operation,
        names.CLUSTER_ID: cluster_id,
        names.CONFIGURATION: configuration,
        names.ATTEMPT: attempt,
    }
    started = time.perf_counter()
    with tracer().start_as_current_span(
        f"ARM {method} {operation}",
        kind=SpanKind.CLIENT,
        attributes=_attributes(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        call = ArmCall(span)
        try:
            yield call
        except Exception as error:
            if call.outcome == "ok":
                call.failed(error, classify(error) if classify else type(error).__name__)
            raise
        finally:
            span.set_attribute(names.OUTCOME, call.outcome)
            span.set_attribute(names.THROTTLED, call.status == 429)
            if call.status is not None:
                span.set_attribute(names.HTTP_STATUS, call.status)
            meters.arm_called(
                method, operation, call.outcome, call.status, time.perf_counter() - started
            )
