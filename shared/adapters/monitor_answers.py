"""How metric gates' query answers become one value per cluster of a rollout.

A Log Analytics table names each cluster by an ARM id column (`_ResourceId`, `ClusterId`,
`ResourceId`, any case) or a `ClusterName` column, and holds one number (or `valueColumn`); a
Prometheus vector labels each series `cluster_id` (an ARM id) or `cluster` (a name). `assign`
keeps the values of the rollout's clusters: ids match ignoring case, a name when exactly one
of the clusters has it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.errors import Invalid, one_line

ID_COLUMNS = ("_resourceid", "clusterid", "resourceid")
NAME_COLUMNS = ("clustername",)
NUMERIC_TYPES = {"real", "long", "int", "decimal"}
AGGREGATE_HINT = (
    "aggregate per cluster (PromQL 'avg by (cluster) (...)', KQL 'summarize ... by _ResourceId')"
)


Key = tuple[str, str]
"""How an answer names a cluster: `("id", arm id)` or `("name", cluster name)`."""


@dataclass(frozen=True)
class ClusterRef:
    """A cluster a gate asks about: its ARM id and its name."""

    id: str
    name: str


def table_values(table: Any, value_column: str | None, doing: str) -> list[tuple[Key, float]]:
    """(cluster key, value) for each row of a Log Analytics table with a value."""
    lowered = [c.lower() for c in table.columns]
    candidates = [("id", n) for n in ID_COLUMNS] + [("name", n) for n in NAME_COLUMNS]
    key_kind, key_index = next(
        ((kind, lowered.index(name)) for kind, name in candidates if name in lowered), ("", -1)
    )
    if key_index < 0:
        raise Invalid(
            f"{doing}: the answer has no cluster column (columns: {', '.join(table.columns)}); "
            "project _ResourceId, ClusterId or ClusterName"
        )
    if value_column is not None:
        if value_column.lower() not in lowered:
            raise Invalid(
                f"{doing}: valueColumn '{value_column}' is not in the answer "
                f"(columns: {', '.join(table.columns)})"
            )
        value_index = lowered.index(value_column.lower())
    else:
        numeric = [
            i
            for i, kind in enumerate(table.columns_types)
            if kind in NUMERIC_TYPES and i != key_index
        ]
        if len(numeric) != 1:
            names = ", ".join(table.columns[i] for i in numeric) or "none"
            raise Invalid(
                f"{doing}: the answer needs exactly one numeric column, has {names}: "
                "name the value's with valueColumn"
            )
        value_index = numeric[0]
    found = []
    for row in table.rows:
        key, value = row[key_index], _number(row[value_index])
        if key is not None and value is not None:
            found.append(((key_kind, str(key)), value))
    return found


def vector_values(data: dict[str, Any], doing: str) -> list[tuple[Key, float]]:
    """(cluster key, value) for each series of an instant vector."""
    if data.get("resultType") != "vector":
        raise Invalid(
            f"{doing}: the query answers a {data.get('resultType')}, not an instant vector: "
            "select a metric, e.g. avg by (cluster) (metric)"
        )
    found = []
    for series in data.get("result") or []:
        labels = series.get("metric") or {}
        value = _number((series.get("value") or [None, None])[1])
        if labels.get("cluster_id"):
            key: Key = ("id", str(labels["cluster_id"]))
        elif labels.get("cluster"):
            key = ("name", str(labels["cluster"]))
        else:
            raise Invalid(
                f"{doing}: a series has neither a 'cluster' nor a 'cluster_id' label "
                f"({one_line(str(labels))}): keep the label, e.g. avg by (cluster) (...)"
            )
        if value is not None:
            found.append((key, value))
    return found


def assign(
    found: list[tuple[Key, float]], clusters: Sequence[ClusterRef], doing: str
) -> dict[str, float]:
    """The values that belong to `clusters`, by cluster id: ARM ids match ignoring case and a
    name matches when exactly one of the clusters has it. Values of other clusters (the
    workspace sees more than the rollout) are left out; two values for one cluster are an
    error."""
    by_id = {c.id.lower().rstrip("/"): c for c in clusters}
    by_name: dict[str, list[ClusterRef]] = {}
    for ref in clusters:
        by_name.setdefault(ref.name.lower(), []).append(ref)
    result: dict[str, float] = {}
    for (kind, text), value in found:
        named = by_name.get(text.lower(), []) if kind == "name" else []
        cluster = by_id.get(text.lower().rstrip("/")) if kind == "id" else None
        if len(named) == 1:
            cluster = named[0]
        if cluster is None:
            continue
        if cluster.id in result:
            raise Invalid(f"{doing}: several values for cluster '{cluster.name}': {AGGREGATE_HINT}")
        result[cluster.id] = value
    return result


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
