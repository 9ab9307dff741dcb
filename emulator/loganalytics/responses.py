"""``POST /v1/workspaces/{workspaceId}/query``: Log Analytics' query API.

The body is ``{"query": "<KQL>", "timespan": "PT15M", "workspaces"?: [...]}`` (or ``GET`` with
``?query=&timespan=``); the answer ``{"tables": [{"name": "PrimaryResult", "columns": [{"name",
"type"}], "rows": [[...]]}]}``, or a partial result with an ``error`` beside the tables, or a
OneAPI error (:mod:`emulator.loganalytics.exceptions`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from aiohttp import web

from emulator.arm import utc_now
from emulator.keys import BACKEND
from emulator.loganalytics.exceptions import (
    AUTH_MISSING_MSG,
    BODY_MSG,
    PARTIAL_DETAIL_MSG,
    PARTIAL_MSG,
    PATH_NOT_FOUND_MSG,
    WORKSPACE_NOT_FOUND_MSG,
    LogsError,
    bad_query,
    injected,
)
from emulator.loganalytics.tables import TimespanError, run_logs_query
from emulator.resourcegraph.exceptions import QueryError

log = logging.getLogger(__name__)
BEARER = re.compile(r"^Bearer\s+\S+", re.I)
SYNTAX_CODES = {"ParserFailure"}
"""Engine error codes that are syntax errors; every other one is a semantic error."""


def _answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    request_id = str(uuid.uuid4())
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        charset="utf-8",
        headers={"x-ms-request-id": request_id, "Via": "1.1 draft-oms", **(headers or {})},
    )


async def _request_fields(request: web.Request) -> tuple[str, str | None]:
    """The query text and timespan, from the JSON body (POST) or the URL (GET)."""
    if request.method == "GET":
        query = request.query.get("query")
        if not query:
            raise LogsError(400, "BadArgumentError", BODY_MSG.format(reason="'query' is missing"))
        return query, request.query.get("timespan")
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError as error:
        raise LogsError(400, "BadArgumentError", BODY_MSG.format(reason=error)) from error
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise LogsError(400, "BadArgumentError", BODY_MSG.format(reason="'query' is missing"))
    timespan = body.get("timespan")
    return body["query"], timespan if isinstance(timespan, str) else None


async def query_entry(request: web.Request) -> web.Response:
    """Every request to ``/v1/workspaces/{workspaceId}/query``; errors answered in shape."""
    try:
        return await query_workspace(request)
    except LogsError as error:
        return _answer(error.body(), error.status, error.headers)
    except Exception:
        log.exception("unhandled error for %s %s", request.method, request.path)
        internal = LogsError(500, "InternalServerError", "An internal error occurred")
        return _answer(internal.body(), 500)


async def query_workspace(request: web.Request) -> web.Response:
    """Authenticate, find the workspace, apply injected failures, run the query."""
    backend = request.app[BACKEND]
    backend.advance()
    if not BEARER.match(request.headers.get("Authorization", "")):
        raise LogsError(
            401,
            "AuthenticationFailed",
            AUTH_MISSING_MSG,
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common"'
            },
        )
    workspace = request.match_info["workspace"]
    if not backend.monitor.workspace_exists(workspace):
        raise LogsError(
            404,
            "WorkspaceNotFoundError",
            WORKSPACE_NOT_FOUND_MSG.format(workspace=workspace),
        )
    query, timespan = await _request_fields(request)
    failure = backend.monitor.failure_for("logAnalytics", query)
    if failure is not None and not failure.partial:
        raise injected(failure.status, failure.message)
    try:
        body = run_logs_query(backend, workspace, query, timespan, utc_now())
    except QueryError as error:
        kind = "SyntaxError" if error.code in SYNTAX_CODES else "SemanticError"
        detail = {"code": error.code, "message": error.message, "line": 1, "pos": error.position}
        if error.token:
            detail["token"] = error.token
        raise bad_query(kind, detail) from error
    except TimespanError as error:
        raise LogsError(400, "BadArgumentError", str(error)) from error
    if failure is not None:
        body["error"] = {
            "code": "PartialError",
            "message": PARTIAL_MSG,
            "details": [
                {
                    "code": "EngineError",
                    "message": "Something went wrong processing your query on the server.",
                    "innererror": {
                        "code": "-2133196797",
                        "message": failure.message or PARTIAL_DETAIL_MSG,
                        "severity": 2,
                        "severityName": "Error",
                    },
                }
            ],
        }
    return _answer(body)


async def path_not_found(request: web.Request) -> web.Response:
    """Any other path under ``/v1``: Log Analytics' 404."""
    error = LogsError(404, "PathNotFoundError", PATH_NOT_FOUND_MSG)
    return _answer(error.body(), 404)
