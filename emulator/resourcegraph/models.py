"""Resource Graph tables built from the fleet, and query execution with ARG's paging."""

from __future__ import annotations

import hashlib
import uuid
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


RESULTS_KEPT = 16
RESULTS_SECONDS = 60.0
"""A paged answer's full result is kept this long (at most this many), so its `$skipToken`
pages slice it instead of evaluating the query again over the whole fleet."""


def run_query(backend: Backend, request: GraphRequest) -> dict[str, Any]:
    """The QueryResponse body: totalRecords, count, resultTruncated, $skipToken, data, facets.

    The pages of one paged answer are one result: the first page's rows are kept (a few, for a
    minute) and its `$skipToken` names them, so later pages read the rows the first one
    counted. A token whose result is gone (the emulator restarted, or it expired) runs the
    query again, as before.
    """
    query = compile_query(request.query, TABLE_COLUMNS)
    top = MAX_TOP if request.top is None else request.top
    if not 1 <= top <= MAX_TOP:
        raise QueryError("InvalidParameter", TOP_RANGE_MSG.format(value=top), 0, "$top")
    start = request.skip
    fingerprint = _fingerprint(request)
    rows: list[Row] | None = None
    kept: str | None = None
    if request.skip_token:
        decoded = decode_token(request.skip_token)
        if decoded is None or decoded.get("q") != fingerprint:
            raise QueryError("InvalidSkipToken", SKIP_TOKEN_MSG, 0, "$skipToken")
        start = int(decoded.get("skip", 0))
        kept = str(decoded.get("result", ""))
        rows = _kept(backend, kept)
    if rows is None:
        kept = None
        scope = {s.lower() for s in request.subscriptions} if request.subscriptions else None
        rows = query.run(table_rows(backend, query.table, scope))
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
        token = {"skip": start + top, "q": fingerprint, "result": kept or _keep(backend, rows)}
        body["$skipToken"] = encode_token(token)
    return body


def _keep(backend: Backend, rows: list[Row]) -> str:
    """Keep a paged answer's rows for its later pages; their name."""
    kept = backend.graph_results
    name = uuid.uuid4().hex[:12]
    kept[name] = (backend.clock(), rows)
    while len(kept) > RESULTS_KEPT:
        kept.popitem(last=False)
    return name


def _kept(backend: Backend, name: str) -> list[Row] | None:
    kept = backend.graph_results
    found = kept.get(name)
    if found is None:
        return None
    at, rows = found
    if backend.clock() - at > RESULTS_SECONDS:
        del kept[name]
        return None
    return rows


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
