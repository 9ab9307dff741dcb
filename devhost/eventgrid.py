"""Event Grid triggers at /runtime/webhooks/eventgrid?functionName=NAME.

Handles both handshakes (SubscriptionValidation for the Event Grid schema, the OPTIONS
abuse-protection request for CloudEvents), both schemas, single events and batches, and
runs the function once per event with `func.EventGridEvent` or `func.CloudEvent`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from devhost.http import function_kwargs
from devhost.invoke import log_invocation
from devhost.state import INDEX, INVOKER

log = logging.getLogger("devhost.eventgrid")

PATH = "/runtime/webhooks/eventgrid"
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": {"code": "BadRequest", "message": message}}, status=400)


def parse_events(raw: bytes) -> list[dict[str, Any]]:
    """A JSON array of events or one CloudEvent object; ValueError says what is wrong."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the request body is not JSON ({exc})") from None
    except RecursionError:
        raise ValueError("the request body nests too deeply to be read as events") from None
    events = body if isinstance(body, list) else [body]
    if not events:
        raise ValueError("the request body is an empty array; send at least one event")
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise ValueError(f"event [{i}] is {type(ev).__name__}, not a JSON object")
        if "specversion" in ev:
            missing = [k for k in ("id", "source", "type") if not ev.get(k)]
        else:
            missing = [k for k in ("id", "eventType") if not ev.get(k)]
        if missing:
            raise ValueError(f"event [{i}] lacks {', '.join(missing)}")
    return events


async def options(request: web.Request) -> web.StreamResponse:
    """CloudEvents webhook validation: echo the requesting origin as allowed."""
    origin = request.headers.get("WebHook-Request-Origin")
    if not origin:
        return web.Response(status=200, headers={"Allow": "POST, OPTIONS"})
    return web.Response(
        status=200,
        headers={
            "WebHook-Allowed-Origin": origin,
            "WebHook-Allowed-Rate": "*",
            "Allow": "POST, OPTIONS",
        },
    )


async def deliver(request: web.Request) -> web.StreamResponse:
    """POST: validation handshake or delivery of events to one function."""
    name = request.query.get("functionName", "")
    spec = request.app[INDEX].event_grid.get(name.lower())
    if spec is None:
        return web.json_response(
            {
                "error": {
                    "code": "NotFound",
                    "message": f"no Event Grid triggered function named '{name}'; pass "
                    "?functionName= with one of: "
                    + ", ".join(sorted(s.name for s in request.app[INDEX].event_grid.values())),
                }
            },
            status=404,
        )
    try:
        events = parse_events(await request.read())
    except ValueError as exc:
        return _bad_request(str(exc))
    kind = request.headers.get("aeg-event-type", "Notification")
    if kind == "SubscriptionValidation" or events[0].get("eventType") == VALIDATION_EVENT:
        code = (events[0].get("data") or {}).get("validationCode")
        if not code:
            return _bad_request("the SubscriptionValidation event has no data.validationCode")
        return web.json_response({"validationResponse": code})
    if kind == "SubscriptionDeletion":
        return web.Response(status=202)
    try:
        values = [
            EventGridEventInConverter.decode(
                meta.Datum(json.dumps(ev), "json"), trigger_metadata=None
            )
            for ev in events
        ]
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        # The binding cannot make an event of it (an eventTime that is no time, say): nothing
        # Event Grid sends, and no invocation; refused before any function runs.
        return _bad_request(f"an event cannot be bound: {type(exc).__name__}: {str(exc)[:200]}")
    failed = 0
    for ev, value in zip(events, values, strict=True):
        started = time.perf_counter()
        try:
            await request.app[INVOKER].call(spec.call, function_kwargs(request, spec, value))
        except Exception as exc:
            failed += 1
            log.exception("function '%s' raised for event '%s'", spec.name, ev.get("id"))
            log_invocation(
                spec.name, "eventGridTrigger", started, "Failed", detail=type(exc).__name__
            )
            continue
        log_invocation(
            spec.name, "eventGridTrigger", started, "Succeeded", detail=f"event={ev.get('id')}"
        )
    return web.Response(status=500 if failed else 202)


def add_routes(app: web.Application) -> None:
    app.router.add_route("OPTIONS", PATH, options)
    app.router.add_route("POST", PATH, deliver)
