"""``/api/v1/query``: Azure Monitor managed Prometheus' query endpoint (Prometheus' HTTP API).

``GET`` with ``?query=&time=`` or ``POST`` with the same parameters form-encoded
(``application/x-www-form-urlencoded``), a bearer token required. Answers are Prometheus' own
JSON: ``{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {...},
"value": [<unix time>, "<value>"]}]}}``, errors ``{"status": "error", "errorType", "error"}``
with 400 (``bad_data``), 422 (``execution``) or 503 (``unavailable``) as Prometheus uses them.
"""

from __future__ import annotations

import logging
import math
import re
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from emulator.keys import BACKEND
from emulator.metrics import samples
from emulator.prometheus.promql import PromQLError, compile_promql

log = logging.getLogger(__name__)
BEARER = re.compile(r"^Bearer\s+\S+", re.I)
PROMETHEUS_RESOURCE = "https://prometheus.monitor.azure.com"
ERROR_TYPES = {
    400: "bad_data",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    422: "execution",
    429: "too_many_requests",
    500: "internal",
    502: "unavailable",
    503: "unavailable",
    504: "timeout",
}
"""Prometheus' ``errorType`` for each status an answer (or an injected failure) can have."""
INJECTED_MSG = "injected by the arcwave emulator's monitor.queryFailures"
UNAUTHORIZED_MSG = "authentication failed: the 'Authorization: Bearer' header is missing"
MISSING_QUERY_MSG = 'invalid parameter "query": 1:1: parse error: no expression found in input'
BAD_TIME_MSG = 'invalid parameter "time": cannot parse "{value}" to a valid timestamp'
NOT_EMULATED_MSG = (
    "'{path}' is not emulated: the arcwave emulator serves /api/v1/query (GET or form POST) only"
)


def _answer(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """Prometheus' error envelope."""
    body = {"status": "error", "errorType": ERROR_TYPES.get(status, "internal"), "error": message}
    return _answer(body, status, headers)


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it (Go's ``FormatFloat(v, 'f', -1, 64)``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def _timestamp(value: str | None) -> float:
    if not value:
        return time.time()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(BAD_TIME_MSG.format(value=value)) from None


async def _parameters(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


async def query_entry(request: web.Request) -> web.Response:
    try:
        return await instant_query(request)
    except Exception:
        log.exception("unhandled error for %s %s", request.method, request.path)
        return error(500, "internal error in the arcwave emulator")


async def instant_query(request: web.Request) -> web.Response:
    """Authenticate, apply injected failures, evaluate the query over the fleet's series."""
    backend = request.app[BACKEND]
    backend.advance()
    if not BEARER.match(request.headers.get("Authorization", "")):
        tenant = backend.scenario.arm.tenant_id
        challenge = (
            f'Bearer authorization="https://login.microsoftonline.com/{tenant}", '
            f'resource="{PROMETHEUS_RESOURCE}"'
        )
        return error(401, UNAUTHORIZED_MSG, {"WWW-Authenticate": challenge})
    params = await _parameters(request)
    query = params.get("query", "")
    if not query.strip():
        return error(400, MISSING_QUERY_MSG)
    try:
        stamp = _timestamp(params.get("time"))
    except ValueError as problem:
        return error(400, str(problem))
    failure = backend.monitor.failure_for("prometheus", query)
    if failure is not None:
        headers = {"Retry-After": "1"} if failure.status in (429, 503) else None
        message = failure.message or f"query failed with status {failure.status}"
        return error(failure.status, f"{message} ({INJECTED_MSG})", headers)
    try:
        result = compile_promql(query)(samples(backend))
    except PromQLError as problem:
        return error(400, str(problem))
    if result.scalar is not None:
        data: dict[str, Any] = {
            "resultType": "scalar",
            "result": [stamp, format_value(result.scalar)],
        }
    else:
        data = {
            "resultType": "vector",
            "result": [
                {"metric": labels, "value": [stamp, format_value(value)]}
                for labels, value in result.series
            ],
        }
    return _answer({"status": "success", "data": data})


async def not_emulated(request: web.Request) -> web.Response:
    """Other Prometheus API paths (``query_range``, ``series``, ``labels``...)."""
    return error(404, NOT_EMULATED_MSG.format(path=request.path))
