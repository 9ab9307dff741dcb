"""Log Analytics tables built from the fleet's synthetic series, and query execution.

``InsightsMetrics`` is the Container insights table: one row per connected cluster and
declared metric, sampled now, with ``_ResourceId`` the cluster's ARM id (lower-cased, as Log
Analytics keeps resource ids) and ``Tags`` naming the cluster as Container insights does.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.backend import Backend
from emulator.loganalytics.kql import compile_logs_query, kql_time
from emulator.metrics import samples
from emulator.resourcegraph.evaluator import Row
from emulator.resourcegraph.scalars import is_number

TABLE = "InsightsMetrics"
COLUMN_TYPES: dict[str, dict[str, str]] = {
    TABLE: {
        "TenantId": "string",
        "SourceSystem": "string",
        "TimeGenerated": "datetime",
        "Computer": "string",
        "Origin": "string",
        "Namespace": "string",
        "Name": "string",
        "Val": "real",
        "Tags": "string",
        "AgentId": "string",
        "Type": "string",
        "_ResourceId": "string",
    }
}
TABLES = {name: list(columns) for name, columns in COLUMN_TYPES.items()}
ORIGIN = "container.azm.ms/arcwave-emulator"
DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
TIMESPAN_MSG = "timespan '{value}' is not an ISO 8601 duration (PT15M), start/end or start/duration"


class TimespanError(ValueError):
    """The request's ``timespan`` could not be read."""


def insights_metrics(backend: Backend, workspace: str, now: datetime) -> list[Row]:
    """One ``InsightsMetrics`` row per connected cluster and declared metric."""
    stamp = kql_time(now)
    rows = []
    for sample in samples(backend):
        tags = {
            "container.azm.ms/clusterId": sample.cluster_id,
            "container.azm.ms/clusterName": sample.cluster,
        }
        rows.append(
            {
                "TenantId": workspace,
                "SourceSystem": "Container",
                "TimeGenerated": stamp,
                "Computer": sample.cluster,
                "Origin": ORIGIN,
                "Namespace": "arcwave",
                "Name": sample.metric,
                "Val": sample.value,
                "Tags": json.dumps(tags, separators=(",", ":")),
                "AgentId": "",
                "Type": TABLE,
                "_ResourceId": sample.cluster_id.lower(),
            }
        )
    return rows


def _duration(text: str) -> timedelta:
    found = DURATION.match(text.upper())
    if found is None or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        raise TimespanError(TIMESPAN_MSG.format(value=text))
    parts = {k: float(v) for k, v in found.groupdict().items() if v is not None}
    return timedelta(**parts)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_range(timespan: str | None, now: datetime) -> tuple[datetime, datetime] | None:
    """``(start, end)`` of a request's ``timespan``; None when it has none."""
    if not timespan:
        return None
    try:
        if "/" not in timespan:
            return now - _duration(timespan), now
        first, second = timespan.split("/", 1)
        start = _moment(first)
        end = start + _duration(second) if second.upper().startswith("P") else _moment(second)
    except ValueError as error:
        raise TimespanError(TIMESPAN_MSG.format(value=timespan)) from error
    return start, end


def run_logs_query(
    backend: Backend, workspace: str, query: str, timespan: str | None, now: datetime
) -> dict[str, Any]:
    """The Log Analytics answer: ``{"tables": [{"name": "PrimaryResult", columns, rows}]}``."""
    table, stages, columns = compile_logs_query(query, TABLES, now)
    rows = insights_metrics(backend, workspace, now)
    window = time_range(timespan, now)
    if window is not None:
        low, high = kql_time(window[0]), kql_time(window[1])
        rows = [row for row in rows if low <= row["TimeGenerated"] <= high]
    for stage in stages:
        rows = stage(rows)
    known = COLUMN_TYPES[table]
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": c, "type": column_type(rows, c, known)} for c in columns],
                "rows": [[row.get(c) for c in columns] for row in rows],
            }
        ]
    }


def column_type(rows: list[Row], column: str, known: dict[str, str]) -> str:
    """Log Analytics' type name: the table's own for its columns, else from the values."""
    values = [row.get(column) for row in rows if row.get(column) is not None]
    if column in known and all(_fits(known[column], v) for v in values):
        return known[column]
    for value in values:
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "long"
        if is_number(value):
            return "real"
        if isinstance(value, dict | list):
            return "dynamic"
        return "string"
    return "string"


def _fits(kind: str, value: Any) -> bool:
    if kind == "real":
        return is_number(value)
    return isinstance(value, str)
