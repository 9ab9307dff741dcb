"""``POST /providers/Microsoft.ResourceGraph/resources``: parse QueryRequest, run, answer."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from emulator.arm import json_response, now_iso, require_api_version
from emulator.keys import BACKEND
from emulator.resourcegraph.exceptions import (
    BODY_MSG,
    INVALID_QUERY_MSG,
    SUPPORT_MSG,
    GraphBadRequest,
    GraphThrottled,
    QueryError,
)
from emulator.resourcegraph.models import GraphRequest, run_query
from emulator.routing import RESPONSE_HEADERS
from emulator.throttle import RG_THROTTLED_MSG

API_VERSIONS = (
    "2019-04-01",
    "2020-04-01-preview",
    "2021-03-01",
    "2021-06-01-preview",
    "2022-10-01",
    "2024-04-01",
)
RESOURCE_TYPE = "Microsoft.ResourceGraph/resources"


def _bad_request(details: list[dict[str, Any]]) -> GraphBadRequest:
    return GraphBadRequest(
        SUPPORT_MSG.format(time=now_iso(), correlation=uuid.uuid4()),
        details=[{"code": "InvalidQuery", "message": INVALID_QUERY_MSG}, *details],
    )


def _parse(body: Any) -> GraphRequest:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise _bad_request(
            [
                {
                    "code": "InvalidRequestContent",
                    "message": BODY_MSG.format(reason="'query' is required"),
                }
            ],
        )
    options = body.get("options") or {}
    subscriptions = body.get("subscriptions")
    top, skip = options.get("$top"), options.get("$skip") or 0
    if (top is not None and not isinstance(top, int)) or not isinstance(skip, int) or skip < 0:
        raise _bad_request(
            [
                {
                    "code": "InvalidRequestContent",
                    "message": BODY_MSG.format(reason="bad paging options"),
                }
            ],
        )
    return GraphRequest(
        query=body["query"],
        subscriptions=list(subscriptions) if subscriptions else None,
        top=top,
        skip=skip,
        skip_token=options.get("$skipToken"),
        result_format=str(options.get("resultFormat") or "objectArray"),
    )


def _user(request: web.Request) -> str:
    return request.headers.get("Authorization", "")[-32:]


def quota_headers(request: web.Request) -> dict[str, str]:
    """The caller's quota headers without counting a query (answers that never ran one)."""
    return request.app[BACKEND].graph_quota.peek(_user(request))


async def query_resources(request: web.Request, match: dict[str, str]) -> web.Response:
    """Every answer, errors included, carries the caller's quota headers; a query counts
    against the quota once it is authenticated, whether it then succeeds or not."""
    del match
    backend = request.app[BACKEND]
    allowed, headers = backend.graph_quota.admit(_user(request))
    request[RESPONSE_HEADERS] = headers
    if not allowed:
        backend.throttled["resourceGraph"] += 1
        raise GraphThrottled(RG_THROTTLED_MSG.format(time=now_iso()), headers=headers)
    require_api_version(request, API_VERSIONS, RESOURCE_TYPE)
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError as error:
        raise _bad_request(
            [{"code": "InvalidRequestContent", "message": BODY_MSG.format(reason=error)}]
        ) from error
    graph_request = _parse(body)
    try:
        result = run_query(backend, graph_request)
    except QueryError as error:
        raise _bad_request([error.detail()]) from error
    return json_response(result, headers=headers)
