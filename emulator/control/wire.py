"""JSON in and out of the control API: request bodies and error answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

BODY_INVALID_MSG = "request body must be a JSON object"


def error(status: int, message: str, errors: Any = None) -> web.Response:
    """``{"error": message, "errors"?: [...]}`` with ``status``."""
    body: dict[str, Any] = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return web.json_response(body, status=status)


def refusal(kind: type[web.HTTPError], message: str) -> web.HTTPError:
    """The same error body as an exception, for helpers that cannot return a response."""
    return kind(text=json.dumps({"error": message}), content_type="application/json")


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object the request carries (an empty body is ``{}``); 400 for anything else."""
    try:
        parsed = json.loads(await request.read() or b"{}")
    except ValueError as problem:
        raise refusal(web.HTTPBadRequest, f"{BODY_INVALID_MSG}: {problem}") from problem
    if not isinstance(parsed, dict):
        raise refusal(web.HTTPBadRequest, BODY_INVALID_MSG)
    return parsed


def validation_failed(problem: ValidationError) -> web.HTTPBadRequest:
    errors = [
        {"loc": ".".join(str(p) for p in item["loc"]), "type": item["type"], "msg": item["msg"]}
        for item in problem.errors()
    ]
    return web.HTTPBadRequest(
        text=json.dumps({"error": f"{len(errors)} validation error(s)", "errors": errors}),
        content_type="application/json",
    )
