"""Synthetic Azure Monitor data: per-cluster series whose value depends on the revision each
cluster runs, and the faults that make a query fail.

The scenario's ``monitor`` section (and ``/_emulator/monitor``) declares them::

    monitor:
      metrics:
        error_rate: {default: 0.01, byCommit: {bad1: 0.2}, jitter: 0.002}
      queryFailures:
        - {api: prometheus, query: "*error_rate*", status: 503}
        - {api: logAnalytics, partial: true}
      workspaces: [4f1e...]        # optional: the Log Analytics workspace ids that exist

A metric's value on a cluster is ``byCommit[prefix]`` for the longest prefix of a revision one
of the cluster's configurations last reconciled (Flux's observed revision), else ``default``;
``jitter`` adds a deterministic offset in ``[-jitter, +jitter]`` drawn from (metric, cluster,
revision), so the same cluster on the same revision always reports the same value. Clusters
that are not ``Connected`` report nothing, as their agents send no data. Both query APIs
(:mod:`emulator.loganalytics`, :mod:`emulator.prometheus`) read :func:`samples`.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from emulator.backend import Backend

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
FAILURE_STATUSES = (400, 401, 403, 404, 422, 429, 500, 502, 503, 504)
METRIC_NAME_MSG = (
    "metric name '{name}' is invalid: use letters, digits, '_' and ':', not starting with a "
    "digit (Prometheus' metric name rules)"
)
PREFIX_MSG = "byCommit keys are revision prefixes: give at least one character"
STATUS_MSG = "status must be one of {statuses}, got {status}"
PARTIAL_MSG = "partial applies to Log Analytics only: set api: logAnalytics"
WORKSPACE_MSG = "workspace id '{value}' is not a GUID"
Api = Literal["logAnalytics", "prometheus"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)


class MetricSpec(Model):
    """One synthetic metric: its value by the revision a cluster runs."""

    default: float = Field(default=0.0, allow_inf_nan=False)
    by_commit: dict[str, float] = Field(default_factory=dict)
    """Revision prefix (case-insensitive) → value; the longest matching prefix wins."""
    jitter: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @field_validator("by_commit")
    @classmethod
    def _prefixes(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not prefix for prefix in value):
            raise ValueError(PREFIX_MSG)
        if any(not math.isfinite(v) for v in value.values()):
            raise ValueError("byCommit values must be finite numbers")
        return value

    def base_value(self, revisions: list[str]) -> tuple[float, str | None]:
        """The value for a cluster running ``revisions`` and the revision that decided it."""
        best: tuple[int, float, str] | None = None
        for revision in revisions:
            lowered = revision.lower()
            for prefix, value in self.by_commit.items():
                if lowered.startswith(prefix.lower()) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), value, revision)
        if best is not None:
            return best[1], best[2]
        return self.default, revisions[0] if revisions else None


class QueryFailure(Model):
    """Queries of ``api`` whose text matches ``query`` (an fnmatch glob) fail with ``status``;
    ``partial`` (Log Analytics only) answers 200 with the rows and a ``PartialError``."""

    api: Api | Literal["any"] = "any"
    query: str = "*"
    status: int = 500
    partial: bool = False
    message: str | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: int) -> int:
        if value not in FAILURE_STATUSES:
            statuses = ", ".join(str(s) for s in FAILURE_STATUSES)
            raise ValueError(STATUS_MSG.format(statuses=statuses, status=value))
        return value

    @model_validator(mode="after")
    def _partial_is_log_analytics(self) -> QueryFailure:
        if self.partial and self.api != "logAnalytics":
            raise ValueError(PARTIAL_MSG)
        return self

    def matches(self, api: Api, query: str) -> bool:
        return self.api in ("any", api) and fnmatchcase(query, self.query)


class MonitorSpec(Model):
    """The scenario's ``monitor`` section."""

    metrics: dict[str, MetricSpec] = Field(default_factory=dict)
    query_failures: list[QueryFailure] = Field(default_factory=list)
    workspaces: list[str] = Field(default_factory=list)
    """Log Analytics workspace ids that exist; empty: every GUID is a workspace."""

    @field_validator("metrics")
    @classmethod
    def _names(cls, value: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
        for name in value:
            if not METRIC_NAME.match(name):
                raise ValueError(METRIC_NAME_MSG.format(name=name))
        return value

    @field_validator("workspaces")
    @classmethod
    def _guids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not GUID.match(item):
                raise ValueError(WORKSPACE_MSG.format(value=item))
        return value


@dataclass(frozen=True)
class Sample:
    """The value of one metric on one cluster, now."""

    metric: str
    cluster_id: str
    cluster: str
    revision: str | None
    value: float


class MonitorState:
    """The live monitor settings: the scenario's, changed through ``/_emulator/monitor``."""

    def __init__(self, spec: MonitorSpec) -> None:
        self.spec = spec.model_copy(deep=True)

    def failure_for(self, api: Api, query: str) -> QueryFailure | None:
        """The first query failure rule that matches."""
        return next((f for f in self.spec.query_failures if f.matches(api, query)), None)

    def workspace_exists(self, workspace: str) -> bool:
        if not GUID.match(workspace):
            return False
        known = {w.lower() for w in self.spec.workspaces}
        return not known or workspace.lower() in known

    def to_wire(self) -> dict[str, object]:
        return self.spec.model_dump(by_alias=True, exclude_none=True)


def jitter_offset(jitter: float, metric: str, cluster_id: str, revision: str | None) -> float:
    """A stable offset in ``[-jitter, +jitter]`` for (metric, cluster, revision)."""
    if jitter == 0:
        return 0.0
    seed = f"{metric}\n{cluster_id.lower()}\n{revision or ''}".encode()
    unit = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") / 2**64
    return jitter * (2 * unit - 1)


def samples(backend: Backend, metrics: set[str] | None = None) -> list[Sample]:
    """Every connected cluster's value of every declared metric (or of ``metrics``), ordered
    by metric, then cluster id."""
    declared = backend.monitor.spec.metrics
    clusters = sorted(
        (c for c in backend.clusters.values() if c.online), key=lambda c: c.id.lower()
    )
    result: list[Sample] = []
    for name in sorted(declared):
        if metrics is not None and name not in metrics:
            continue
        spec = declared[name]
        for cluster in clusters:
            revisions = [
                config.observed_revision
                for _, config in sorted(cluster.configurations.items())
                if config.observed_revision
            ]
            base, revision = spec.base_value(revisions)
            value = base + jitter_offset(spec.jitter, name, cluster.id, revision)
            if base >= 0:
                value = max(value, 0.0)
            result.append(Sample(name, cluster.id, cluster.name, revision, value))
    return result
