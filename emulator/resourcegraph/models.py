"""Resource Graph tables built from the fleet, and query execution with ARG's paging."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from emulator.arm import decode_token, encode_token
from emulator.backend import Backend
from emulator.resourcegraph.evaluator import Row
from emulator.resourcegraph.exceptions import SKIP_TOKEN_MSG, TOP_RANGE_MSG, QueryError
from emulator.resourcegraph.query import compile_query
from emulator.resourcegraph.rows import COLUMNS

TABLE_COLUMNS = {"resources": COLUMNS, "kubernetesconfigurationresources": COLUMNS}
MAX_TOP = 1000


def table_rows(backend: Backend, table: str, subscriptions: set[str] | None) -> list[Row]:
    """Rows of ``table`` in the given subscriptions (all when None)."""
    clusters = [
        cluster
        for key, cluster in backend.clusters.items()
        if subscriptions is None or key[0] in subscriptions
    ]
    if table == "resources":
        return [cluster.to_arg_row() for cluster in clusters]
    tenant = backend.scenario.arm.tenant_id
    return [
        config.to_arg_row(tenant)
        for cluster in clusters
        for config in cluster.configurations.values()
    ]


@dataclass(frozen=True)
class GraphRequest:
    query: str
    subscriptions: list[str] | None
    top: int | None
    skip: int
    skip_token: str | None
    result_format: str


def _fingerprint(request: GraphRequest) -> str:
    scope = ",".join(sorted(s.lower() for s in request.subscriptions or []))
    return hashlib.sha256(f"{request.query}\n{scope}".encode()).hexdigest()[:16]


def run_query(backend: Backend, request: GraphRequest) -> dict[str, Any]:
    """The QueryResponse body: totalRecords, count, resultTruncated, $skipToken, data, facets."""
    query = compile_query(request.query, TABLE_COLUMNS)
    scope = {s.lower() for s in request.subscriptions} if request.subscriptions else None
    rows = query.run(table_rows(backend, query.table, scope))
    top = MAX_TOP if request.top is None else request.top
    if not 1 <= top <= MAX_TOP:
        raise QueryError("InvalidParameter", TOP_RANGE_MSG.format(value=top), 0, "$top")
    start = request.skip
    fingerprint = _fingerprint(request)
    if request.skip_token:
        decoded = decode_token(request.skip_token)
        if decoded is None or decoded.get("q") != fingerprint:
            raise QueryError("InvalidSkipToken", SKIP_TOKEN_MSG, 0, "$skipToken")
        start = int(decoded.get("skip", 0))
    window = rows[start : start + top]
    more = start + top < len(rows)
    pageable = "id" in query.columns
    body: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(window),
        "resultTruncated": "true" if more and not pageable else "false",
        "facets": [],
        "data": _format(window, query.columns, request.result_format),
    }
    if more and pageable:
        body["$skipToken"] = encode_token({"skip": start + top, "q": fingerprint})
    return body


def _format(rows: list[Row], columns: list[str], result_format: str) -> Any:
    if result_format.lower() != "table":
        return rows
    return {
        "columns": [{"name": c, "type": _column_type(rows, c)} for c in columns],
        "rows": [[row.get(c) for c in columns] for row in rows],
    }


def _column_type(rows: list[Row], column: str) -> str:
    for row in rows:
        value = row.get(column)
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "real"
        if isinstance(value, str):
            return "string"
        return "object"
    return "string"
