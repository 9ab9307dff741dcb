"""Metric gates as a track spec names them: an Azure Monitor query per gate, how its
per-cluster values are aggregated over a wave, and the bounds that pass or fail the wave
(docs/gates.md).

```yaml
metricGates:
  - name: error-rate
    prometheus: {queryEndpoint: https://<ws>.westeurope.prometheus.monitor.azure.com,
                 query: 'avg by (cluster) (http_error_ratio)'}
    aggregate: mean                           # mean | max | median
    threshold: {max: 0.05}                    # absolute bound(s) on the aggregate
    baseline: {maxRatio: 1.5, minSample: 3}   # or maxIncrease: updated vs not yet updated
    onError: fail                             # fail | ignore
waves:
  - {name: canary, selector: {ring: canary}, metricGates: [error-rate]}
```

A gate queries either Log Analytics (KQL through `logAnalytics.workspaceId`) or an Azure
Monitor workspace's managed Prometheus (PromQL at `prometheus.queryEndpoint`), never both.
The evaluation is `shared.metricgates`'s; the queries run through `shared.adapters.monitor`.
"""

import re
from collections import Counter
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.trackspec.rules import DNS_LABEL, PositiveDuration, error, name_rule, raise_if
from shared.wire import WireModel

GateName = Annotated[str, name_rule(DNS_LABEL, 63, "metric gate name")]
"""Metric gate names follow the rules of wave names (a DNS label)."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?")
MAX_QUERY_CHARS = 10_000


class Aggregate(StrEnum):
    """How the values of a wave's clusters become one number."""

    MEAN = "mean"
    MAX = "max"
    MEDIAN = "median"


class OnError(StrEnum):
    """What a gate does when its query fails or returns nothing for the wave."""

    FAIL = "fail"
    """The wave fails (`MetricGateFailed`): no answer is not a good answer."""
    IGNORE = "ignore"
    """The gate is skipped with a recorded warning (`MetricGateSkipped`)."""


def _query_text(value: str) -> str:
    text = value.strip()
    if not text:
        raise PydanticCustomError("query", "the query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise PydanticCustomError(
            "query", "the query is longer than {n} characters", {"n": MAX_QUERY_CHARS}
        )
    return text


class PrometheusQuery(WireModel):
    """A PromQL instant query against an Azure Monitor workspace's query endpoint."""

    query_endpoint: str
    """`properties.metrics.prometheusQueryEndpoint` of the Azure Monitor workspace."""
    query: str
    """Answers one series per cluster, labelled `cluster` (its name) or `cluster_id` (its ARM
    id): aggregate `by (cluster)` when a metric has several series per cluster."""

    @field_validator("query_endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not _HTTPS_URL.fullmatch(url):
            raise PydanticCustomError(
                "url",
                "'{value}' is not an https URL: give the Azure Monitor workspace's query "
                "endpoint, e.g. https://<workspace>.<region>.prometheus.monitor.azure.com",
                {"value": value},
            )
        return url

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return _query_text(value)


class LogAnalyticsQuery(WireModel):
    """A KQL query against a Log Analytics workspace."""

    workspace_id: str
    """The workspace's GUID (Workspace ID on its overview page)."""
    query: str
    """Answers one row per cluster: an ARM id column (`_ResourceId`, `ClusterId` or
    `ResourceId`) or a `ClusterName` column, and a number."""
    timespan: PositiveDuration = timedelta(minutes=15)
    """How far back the query looks (Log Analytics' `timespan`)."""
    value_column: str | None = Field(default=None, min_length=1)
    """The column holding the value; needed only when the query answers several numbers."""

    @field_validator("workspace_id")
    @classmethod
    def _workspace(cls, value: str) -> str:
        if not _GUID.fullmatch(value.strip()):
            raise PydanticCustomError(
                "guid",
                "'{value}' is not a workspace id: give the workspace's GUID (Workspace ID on "
                "its overview page), not its name",
                {"value": value},
            )
        return value.strip()

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return _query_text(value)


class Threshold(WireModel):
    """Absolute bounds on the aggregate of the wave's updated clusters."""

    max: float | None = Field(default=None, allow_inf_nan=False)
    min: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _a_bound(self) -> "Threshold":
        if self.max is None and self.min is None:
            raise_if([error("threshold", ("max",), None, "give max, min or both")], "Threshold")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise_if(
                [
                    error(
                        "threshold",
                        ("min",),
                        self.min,
                        f"min {self.min:g} is above max {self.max:g}",
                    )
                ],
                "Threshold",
            )
        return self


class Baseline(WireModel):
    """The wave's updated clusters against the rollout's clusters still on the previous
    revision: at most `maxRatio` times their aggregate, or at most `maxIncrease` above it."""

    max_ratio: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_increase: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    min_sample: int = Field(default=3, ge=1)
    """Clusters with a value needed on each side; fewer: the comparison is skipped (warned)."""

    @model_validator(mode="after")
    def _one_comparison(self) -> "Baseline":
        if (self.max_ratio is None) == (self.max_increase is None):
            raise_if(
                [
                    error(
                        "baseline",
                        ("maxRatio",),
                        self.max_ratio,
                        "give either maxRatio (updated / baseline) or maxIncrease (updated - "
                        "baseline), not both and not neither",
                    )
                ],
                "Baseline",
            )
        return self


class MetricGate(WireModel):
    """A query answering a number per cluster, and what the wave's numbers must satisfy."""

    name: GateName
    prometheus: PrometheusQuery | None = None
    log_analytics: LogAnalyticsQuery | None = None
    aggregate: Aggregate = Aggregate.MEAN
    threshold: Threshold | None = None
    baseline: Baseline | None = None
    on_error: OnError = OnError.FAIL

    @model_validator(mode="after")
    def _one_query_and_a_bound(self) -> "MetricGate":
        errors: list[InitErrorDetails] = []
        if (self.prometheus is None) == (self.log_analytics is None):
            errors.append(
                error(
                    "query_kind",
                    ("prometheus",),
                    None,
                    "give either prometheus (PromQL) or logAnalytics (KQL), not both and not "
                    "neither",
                )
            )
        if self.threshold is None and self.baseline is None:
            errors.append(
                error(
                    "bound",
                    ("threshold",),
                    None,
                    "give a threshold, a baseline or both: a gate without either passes everything",
                )
            )
        raise_if(errors, "MetricGate")
        return self

    @property
    def kind(self) -> str:
        """`prometheus` or `logAnalytics`."""
        return "prometheus" if self.prometheus is not None else "logAnalytics"


def metric_gate_problems(
    gates: list[MetricGate], waves: list[tuple[str, list[str]]]
) -> list[InitErrorDetails]:
    """Gate names unique; every gate a wave names (`waves[i].metricGates[j]`) defined, once."""
    errors = []
    first: dict[str, int] = {}
    for index, gate in enumerate(gates):
        if gate.name in first:
            errors.append(
                error(
                    "duplicate",
                    ("metricGates", index, "name"),
                    gate.name,
                    f"metric gate name '{gate.name}' is already used by "
                    f"metricGates[{first[gate.name]}]",
                )
            )
        first.setdefault(gate.name, index)
    defined = ", ".join(sorted(first)) or "none"
    for wave_index, (_, named) in enumerate(waves):
        counted: Counter[str] = Counter()
        for index, name in enumerate(named):
            counted[name] += 1
            loc = ("waves", wave_index, "metricGates", index)
            if name not in first:
                errors.append(
                    error(
                        "unknown_gate",
                        loc,
                        name,
                        f"no metric gate named '{name}' in metricGates (defined: {defined})",
                    )
                )
            elif counted[name] > 1:
                errors.append(error("duplicate", loc, name, f"'{name}' is listed twice"))
    return errors
