"""The Durable HTTP API: each path `DurableOrchestrationClient` calls, answered like the extension.

Served twice: under /runtime/webhooks/durabletask/ (needs the function key, like the public
webhook) and under /durabletask/ for loopback callers only (the rpcBaseUrl the client binding
advertises, like the extension's local RPC listener).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from devhost.auth import authorized
from devhost.durable.binding import RPC_PATH, WEBHOOK_PATH, management_urls
from devhost.durable.engine import Engine, EngineError
from devhost.durable.history import (
    EventType,
    fmt_status_time,
    fmt_time,
    parse_json_text,
    parse_time,
    status_history,
)
from devhost.durable.instance import Instance, RuntimeStatus
from devhost.state import CONFIG, ENGINE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


_DEFAULT_PAGE = 100


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"true", "1", "yes"}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"Message": message, "ExceptionMessage": message}, status=status)


def _decode_client_body(raw: bytes) -> str | None:
    """The SDK double-encodes bodies; a raw JSON body (curl) is accepted as the value itself."""
    if not raw.strip():
        return None
    value = json.loads(raw)
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return json.dumps(value)
        return value
    return json.dumps(value)


def _urls(request: web.Request, instance_id: str) -> dict[str, str]:
    config = request.app[CONFIG]
    base = f"{request.scheme}://{request.host}"
    return management_urls(base, config.hub_name, config.function_key, instance_id)


def status_payload(
    engine: Engine,
    inst: Instance,
    *,
    show_input: bool,
    show_history: bool = False,
    show_history_output: bool = False,
) -> dict[str, Any]:
    """StatusResponsePayload as the extension serialises it."""
    body: dict[str, Any] = {
        "name": inst.name,
        "instanceId": inst.instance_id,
        "runtimeStatus": inst.status.value,
        "input": parse_json_text(inst.input) if show_input else None,
        "customStatus": parse_json_text(inst.custom_status),
        "output": parse_json_text(inst.output),
        "createdTime": fmt_status_time(parse_time(inst.created)),
        "lastUpdatedTime": fmt_status_time(parse_time(inst.updated)),
    }
    if show_history:
        body["historyEvents"] = status_history(
            engine.history(inst.instance_id), with_output=show_history_output
        )
    return body


async def start(request: web.Request) -> web.StreamResponse:
    """POST orchestrators/{functionName}[/{instanceId}]"""
    engine = request.app[ENGINE]
    name = request.match_info["name"]
    try:
        input_text = _decode_client_body(await request.read())
    except ValueError:
        return _error(
            400, "The request body is not valid JSON; send the orchestration input as JSON."
        )
    try:
        instance_id = engine.start_instance(name, request.match_info.get("instance_id"), input_text)
    except EngineError as exc:
        return _error(exc.status, str(exc))
    payload = _urls(request, instance_id)
    return web.json_response(
        payload,
        status=202,
        headers={"Location": payload["statusQueryGetUri"], "Retry-After": "10"},
    )


async def get_status(request: web.Request) -> web.StreamResponse:
    """GET instances/{instanceId}"""
    engine = request.app[ENGINE]
    inst = engine.store.get_instance(request.match_info["instance_id"])
    if inst is None:
        return web.Response(status=404)
    body = status_payload(
        engine,
        inst,
        show_input=_flag(request, "showInput", True),
        show_history=_flag(request, "showHistory"),
        show_history_output=_flag(request, "showHistoryOutput"),
    )
    if inst.finished:
        failed_500 = inst.status == RuntimeStatus.Failed and _flag(
            request, "returnInternalServerErrorOnFailure"
        )
        return web.json_response(body, status=500 if failed_500 else 200)
    return web.json_response(
        body, status=202, headers={"Location": str(request.url), "Retry-After": "5"}
    )


def _filters(request: web.Request) -> dict[str, Any]:
    q = request.query
    statuses = None
    if q.get("runtimeStatus"):
        statuses = []
        for part in q["runtimeStatus"].split(","):
            status = RuntimeStatus.parse(part)
            if status is None:
                raise EngineError(400, f"runtimeStatus '{part}' is not a Durable runtime status.")
            statuses.append(status)
    out: dict[str, Any] = {"statuses": statuses, "prefix": q.get("instanceIdPrefix") or None}
    for key, param in (("created_from", "createdTimeFrom"), ("created_to", "createdTimeTo")):
        if q.get(param):
            try:
                out[key] = fmt_time(parse_time(q[param]))
            except ValueError:
                raise EngineError(400, f"{param} '{q[param]}' is not an ISO 8601 time.") from None
    return out


async def list_instances(request: web.Request) -> web.StreamResponse:
    """GET instances/ with createdTimeFrom/To, runtimeStatus, instanceIdPrefix, top, paging."""
    engine = request.app[ENGINE]
    try:
        filters = _filters(request)
        top = int(request.query.get("top", _DEFAULT_PAGE))
    except (EngineError, ValueError) as exc:
        return _error(getattr(exc, "status", 400), str(exc))
    token = request.headers.get("x-ms-continuation-token") or None
    rows = engine.store.query_instances(**filters, after=token, limit=top + 1)
    headers = {}
    if len(rows) > top:
        rows = rows[:top]
        headers["x-ms-continuation-token"] = rows[-1].instance_id
    show_input = _flag(request, "showInput")
    body = [status_payload(engine, r, show_input=show_input) for r in rows]
    return web.json_response(body, headers=headers)


async def purge_one(request: web.Request) -> web.StreamResponse:
    """DELETE instances/{instanceId}"""
    engine = request.app[ENGINE]
    try:
        found = engine.instance(request.match_info["instance_id"])
    except EngineError as exc:
        return _error(exc.status, str(exc))
    return web.json_response({"instancesDeleted": engine.purge([found.instance_id])})


async def purge_many(request: web.Request) -> web.StreamResponse:
    """DELETE instances/ with filters; 404 when nothing matched."""
    engine = request.app[ENGINE]
    try:
        filters = _filters(request)
    except EngineError as exc:
        return _error(exc.status, str(exc))
    ids = [r.instance_id for r in engine.store.query_instances(**filters)]
    if not ids:
        return _error(404, "No instances matched the purge filters.")
    return web.json_response({"instancesDeleted": engine.purge(ids)})


async def raise_event(request: web.Request) -> web.StreamResponse:
    """POST instances/{instanceId}/raiseEvent/{eventName}"""
    engine = request.app[ENGINE]
    if request.content_type != "application/json":
        return _error(400, "raiseEvent needs Content-Type: application/json.")
    try:
        data = _decode_client_body(await request.read())
        engine.raise_event(request.match_info["instance_id"], request.match_info["event"], data)
    except ValueError:
        return _error(400, "The event data is not valid JSON.")
    except EngineError as exc:
        return _error(exc.status, str(exc))
    return web.Response(status=202)


def _control(kind: EventType) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            request.app[ENGINE].control(
                request.match_info["instance_id"], kind, request.query.get("reason")
            )
        except EngineError as exc:
            return _error(exc.status, str(exc))
        return web.Response(status=202)

    handler.__doc__ = f"POST instances/{{instanceId}}/{kind.name}"
    return handler


async def restart(request: web.Request) -> web.StreamResponse:
    """POST instances/{instanceId}/restart?restartWithNewInstanceId=true|false"""
    engine = request.app[ENGINE]
    try:
        old = engine.instance(request.match_info["instance_id"])
        new_id = (
            uuid.uuid4().hex
            if _flag(request, "restartWithNewInstanceId", True)
            else old.instance_id
        )
        instance_id = engine.start_instance(old.name, new_id, old.input)
    except EngineError as exc:
        return _error(exc.status, str(exc))
    payload = _urls(request, instance_id)
    return web.json_response(
        payload, status=202, headers={"Location": payload["statusQueryGetUri"]}
    )


async def not_supported(request: web.Request) -> web.StreamResponse:
    """Entities and rewind are not implemented (docs/devhost.md lists the gaps)."""
    return _error(
        501,
        f"devhost does not implement {request.method} {request.path}; durable entities and "
        "rewind need Azure or Core Tools (see docs/devhost.md).",
    )


def _keyed(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not authorized(request, "FUNCTION", request.app[CONFIG]):
            return web.Response(status=401)
        return await handler(request)

    return guarded


def _loopback(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if request.remote not in {"127.0.0.1", "::1", None}:
            return web.Response(status=403)
        return await handler(request)

    return guarded


def add_routes(app: web.Application) -> None:
    """Register the API under both prefixes."""
    table: list[tuple[str, str, Handler]] = [
        ("POST", "/orchestrators/{name}", start),
        ("POST", "/orchestrators/{name}/{instance_id}", start),
        ("GET", "/instances", list_instances),
        ("GET", "/instances/", list_instances),
        ("DELETE", "/instances", purge_many),
        ("DELETE", "/instances/", purge_many),
        ("GET", "/instances/{instance_id}", get_status),
        ("DELETE", "/instances/{instance_id}", purge_one),
        ("POST", "/instances/{instance_id}/raiseEvent/{event}", raise_event),
        ("POST", "/instances/{instance_id}/terminate", _control(EventType.ExecutionTerminated)),
        ("POST", "/instances/{instance_id}/suspend", _control(EventType.ExecutionSuspended)),
        ("POST", "/instances/{instance_id}/resume", _control(EventType.ExecutionResumed)),
        ("POST", "/instances/{instance_id}/restart", restart),
        ("POST", "/instances/{instance_id}/rewind", not_supported),
        ("*", "/entities/{tail:.*}", not_supported),
    ]
    for prefix, wrap in ((WEBHOOK_PATH, _keyed), (RPC_PATH, _loopback)):
        for method, path, handler in table:
            app.router.add_route(method, prefix + path, wrap(handler))
