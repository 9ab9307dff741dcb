"""Azure Monitor queries for metric gates: one number per cluster.

`MonitorGateway.values(gate, clusters)` runs the gate's query and answers `{cluster id:
value}` for the clusters given:

- **Log Analytics** (KQL) through azure-monitor-query's `LogsQueryClient`, at
  `ARCWAVE_LOG_ANALYTICS_ENDPOINT`: rows are matched by an ARM id column (`_ResourceId`,
  `ClusterId`, `ResourceId`; any case) or a `ClusterName` column, the value is the one
  numeric column (or `valueColumn`).
- **Managed Prometheus** (PromQL) through an azure-core pipeline with a bearer token for
  `https://prometheus.monitor.azure.com`: an instant query (`POST /api/v1/query`) at the gate's
  query endpoint; series are matched by their `cluster_id` label (an ARM id) or `cluster`
  label (a name, when only one of the clusters has it). `NaN` and infinite values are no value.

Both use the ARM clients' transport (the same CA bundle, connect and read timeouts) and retry
5xx, 429 and connection errors a few times. What still fails is raised in `shared.errors`'
words, naming the gate:

    Forbidden       401/403: grant the app's identity the reader role on the workspace
    NotFound        404: the workspace or query endpoint does not exist
    Invalid         the query was refused (400/422), or its answer has no cluster or number
    Throttled       429 after the retries
    TransientError  5xx, timeouts, connection errors, partial results
"""

from collections.abc import Sequence
from typing import Any, Protocol

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    HttpLoggingPolicy,
    NetworkTraceLoggingPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.rest import HttpRequest, HttpResponse
from azure.monitor.query import LogsQueryClient, LogsQueryStatus

from shared.adapters.arm import READ_TIMEOUT_SECONDS, pooled_transport
from shared.adapters.monitor_answers import ClusterRef, Key, assign, table_values, vector_values
from shared.errors import (
    ArcwaveError,
    Forbidden,
    Invalid,
    NotFound,
    PermanentError,
    Throttled,
    TransientError,
    one_line,
)
from shared.settings import Settings
from shared.trackspec.gates import LogAnalyticsQuery, MetricGate, PrometheusQuery

PROMETHEUS_SCOPE = "https://prometheus.monitor.azure.com/.default"
SERVER_TIMEOUT_SECONDS = READ_TIMEOUT_SECONDS - 10
"""Log Analytics stops a query by then, before the read timeout gives up on it."""
ROLES = {
    "logAnalytics": "Log Analytics Reader on the workspace",
    "prometheus": "Monitoring Data Reader on the Azure Monitor workspace",
}


class MetricSource(Protocol):
    """What the metric gates activity reads values through."""

    def values(self, gate: MetricGate, clusters: Sequence[ClusterRef]) -> dict[str, float]: ...


class NoMonitor:
    """A runtime without Azure Monitor access: every query is refused."""

    def values(self, gate: MetricGate, clusters: Sequence[ClusterRef]) -> dict[str, float]:
        raise PermanentError(f"metric gate '{gate.name}': no Azure Monitor access configured")


class MonitorGateway:
    """Runs metric gates' queries against Log Analytics and managed Prometheus."""

    def __init__(self, settings: Settings, credential: TokenCredential) -> None:
        self.settings = settings
        self.credential = credential
        self._logs: LogsQueryClient | None = None
        self._prometheus: PipelineClient[HttpRequest, HttpResponse] | None = None

    def values(self, gate: MetricGate, clusters: Sequence[ClusterRef]) -> dict[str, float]:
        """The gate's value for each of `clusters` that has one, by cluster id."""
        doing = f"metric gate '{gate.name}': " + (
            f"Log Analytics query of workspace '{gate.log_analytics.workspace_id}'"
            if gate.log_analytics is not None
            else f"Prometheus query at '{gate.prometheus.query_endpoint}'"
            if gate.prometheus is not None
            else "query"
        )
        try:
            if gate.log_analytics is not None:
                found = self._log_analytics(gate.log_analytics, doing)
            else:
                assert gate.prometheus is not None
                found = self._prometheus_query(gate.prometheus, doing)
        except ArcwaveError:
            raise
        except Exception as error:
            raise _mapped(error, doing, gate.kind) from error
        return assign(found, clusters, doing)

    # Log Analytics -------------------------------------------------------------------------
    def _logs_client(self) -> LogsQueryClient:
        if self._logs is None:
            self._logs = LogsQueryClient(
                self.credential,
                endpoint=self.settings.log_analytics_endpoint,
                transport=pooled_transport(self.settings, connections=4),
                retry_policy=RetryPolicy(retry_total=3, retry_backoff_factor=0.5),
            )
        return self._logs

    def _log_analytics(self, query: LogAnalyticsQuery, doing: str) -> list[tuple[Key, float]]:
        result = self._logs_client().query_workspace(
            query.workspace_id,
            query.query,
            timespan=query.timespan,
            server_timeout=SERVER_TIMEOUT_SECONDS,
        )
        if result.status is not LogsQueryStatus.SUCCESS:
            raise TransientError(
                f"{doing}: partial results only: {_partial_detail(result.partial_error)}"
            )
        if not result.tables:
            raise Invalid(f"{doing}: the answer has no table")
        return table_values(result.tables[0], query.value_column, doing)

    # Prometheus ----------------------------------------------------------------------------
    def _prometheus_client(self) -> PipelineClient[HttpRequest, HttpResponse]:
        if self._prometheus is None:
            self._prometheus = PipelineClient(
                base_url="https://prometheus.monitor.azure.com",
                policies=[
                    HeadersPolicy(),
                    UserAgentPolicy(sdk_moniker="arcwave-monitor"),
                    RetryPolicy(retry_total=3, retry_backoff_factor=0.5),
                    BearerTokenCredentialPolicy(self.credential, PROMETHEUS_SCOPE),
                    NetworkTraceLoggingPolicy(),
                    HttpLoggingPolicy(),
                ],
                transport=pooled_transport(self.settings, connections=4),
            )
        return self._prometheus

    def _prometheus_query(self, query: PrometheusQuery, doing: str) -> list[tuple[Key, float]]:
        request = HttpRequest(
            "POST", f"{query.query_endpoint}/api/v1/query", data={"query": query.query}
        )
        response = self._prometheus_client().send_request(request)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            detail = _prometheus_detail(body, response)
            retry = response.headers.get("Retry-After")
            raise status_error(response.status_code, detail, doing, "prometheus", retry)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise Invalid(f"{doing}: not a Prometheus answer: {one_line(response.text())}")
        return vector_values(body.get("data") or {}, doing)

    def close(self) -> None:
        if self._logs is not None:
            self._logs.close()
        if self._prometheus is not None:
            self._prometheus.close()


def _prometheus_detail(body: Any, response: HttpResponse) -> str:
    if isinstance(body, dict) and body.get("error"):
        kind = body.get("errorType")
        return one_line(f"({kind}) {body['error']}" if kind else str(body["error"]))
    return one_line(response.text() or f"HTTP {response.status_code}")


def _partial_detail(error: Any) -> str:
    """A partial result's error: its code, message and the innermost message of each detail."""
    if error is None:
        return "no detail given"
    parts = [f"({error.code}) {error.message}"]
    for detail in error.details or []:
        inner = detail
        while isinstance(inner, dict) and isinstance(inner.get("innererror"), dict):
            inner = inner["innererror"]
        if isinstance(inner, dict) and inner.get("message"):
            parts.append(str(inner["message"]))
    return one_line(": ".join(parts))


def _logs_detail(error: HttpResponseError) -> str:
    """The innermost message of a Log Analytics error, with its code."""
    for source in (getattr(error, "model", None), error.error):
        if source is None or isinstance(source, type):
            continue  # the SDK leaves its model class in place when it found no body
        code, message = getattr(source, "code", None), getattr(source, "message", None)
        if code or message:
            return one_line(f"({code}) {message}" if code else str(message))
    return one_line((error.message or str(error)).splitlines()[0])


def status_error(
    status: int, detail: str, doing: str, kind: str, retry: str | None = None
) -> ArcwaveError:
    """A query's non-200 answer as the error that says what to do; `kind` names the service
    (`logAnalytics` or `prometheus`), `retry` a 429's Retry-After."""
    if status in (401, 403):
        return Forbidden(f"{doing}: forbidden ({detail}); grant arcwave's identity {ROLES[kind]}")
    if status == 404:
        return NotFound(f"{doing}: not found ({detail})")
    if status == 429:
        delay = _seconds(retry)
        return Throttled(f"{doing}: throttled, retry in {delay:g}s ({detail})", delay=delay)
    if status == 408 or status >= 500:
        return TransientError(f"{doing}: answered {status}: {detail}")
    return Invalid(f"{doing}: refused ({status}): {detail}")


def _seconds(header: str | None) -> float:
    try:
        return max(float(header), 0.0) if header else 5.0
    except ValueError:
        return 5.0


def _mapped(error: Exception, doing: str, kind: str) -> ArcwaveError:
    """An azure-core error (or any other) in arcwave's words."""
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return TransientError(f"{doing}: connection failed: {one_line(str(error))}")
    if isinstance(error, ClientAuthenticationError) and error.status_code is None:
        return Forbidden(f"{doing}: no token: {one_line(str(error))}")
    if isinstance(error, HttpResponseError):
        response: Any = error.response
        retry = response.headers.get("Retry-After") if response is not None else None
        return status_error(error.status_code or 0, _logs_detail(error), doing, kind, retry)
    return TransientError(f"{doing}: {type(error).__name__}: {one_line(str(error))}")
