"""HTTP triggers on /{routePrefix}/{route}: routing, keys, HttpRequest in, HttpResponse out."""

from __future__ import annotations

import logging
import time
from typing import Any

import azure.functions as func
from aiohttp import web

from devhost.auth import authorized
from devhost.config import HostConfig
from devhost.context import InvocationContext, wants_context
from devhost.durable.binding import RPC_PATH, client_binding
from devhost.invoke import log_invocation
from devhost.loader import FunctionIndex, FunctionSpec
from devhost.routes import RouteTable
from devhost.state import CONFIG, ENDPOINT, INVOKER, ROUTES, Endpoint

log = logging.getLogger("devhost.http")


def build_routes(index: FunctionIndex) -> RouteTable:
    """One route per HTTP-triggered function; the route defaults to the function name."""
    table = RouteTable()
    for spec in index.http:
        table.add(str(spec.trigger.get("route") or spec.name), spec.trigger.get("methods"), spec)
    return table


def durable_client_json(config: HostConfig, endpoint: Endpoint) -> str:
    """The durableClient binding value, pointing at this devhost."""
    return client_binding(
        endpoint.base_url,
        f"{endpoint.base_url}{RPC_PATH}/",
        config.hub_name,
        config.function_key,
    )


def function_kwargs(request: web.Request, spec: FunctionSpec, trigger_value: Any) -> dict[str, Any]:
    """Keyword arguments named after the bindings, as the worker passes them."""
    kwargs: dict[str, Any] = {spec.trigger["name"]: trigger_value}
    client = spec.client_binding
    if client is not None:
        kwargs[client["name"]] = durable_client_json(request.app[CONFIG], request.app[ENDPOINT])
    if wants_context(spec.call):
        kwargs["context"] = InvocationContext(spec.name, str(request.app[CONFIG].app_dir))
    return kwargs


def _to_http_request(request: web.Request, body: bytes, params: dict[str, str]) -> func.HttpRequest:
    query: dict[str, str] = {}
    for key, value in request.query.items():
        query.setdefault(key, value)
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=dict(request.headers),
        params=query,
        route_params=params,
        body=body,
    )


def _to_response(result: Any) -> web.Response:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        result = func.HttpResponse(result)
    if not isinstance(result, func.HttpResponse):
        raise TypeError(
            f"an HTTP function must return func.HttpResponse or str, got {type(result).__name__}"
        )
    headers = {k: v for k, v in result.headers.items() if k.lower() != "content-length"}
    if result.mimetype and "content-type" not in {k.lower() for k in headers}:
        charset = f"; charset={result.charset}" if result.charset else ""
        headers["Content-Type"] = f"{result.mimetype}{charset}"
    return web.Response(status=result.status_code, body=result.get_body(), headers=headers)


async def handle(request: web.Request) -> web.StreamResponse:
    """Serve one HTTP trigger invocation; 404 when no route and method match."""
    config = request.app[CONFIG]
    path = _strip_prefix(request.path, config.route_prefix)
    found = None if path is None else request.app[ROUTES].resolve(request.method, path)
    if found is None:
        return web.Response(status=404)
    spec, params = found
    if not authorized(request, str(spec.trigger.get("authLevel", "FUNCTION")), config):
        return web.Response(status=401)
    started = time.perf_counter()
    body = await request.read()
    try:
        kwargs = function_kwargs(request, spec, _to_http_request(request, body, params))
        result = await request.app[INVOKER].call(spec.call, kwargs)
        response = _to_response(result)
    except Exception as exc:
        log.exception("function '%s' raised", spec.name)
        log_invocation(spec.name, "httpTrigger", started, "Failed", detail=type(exc).__name__)
        return web.Response(status=500)
    log_invocation(spec.name, "httpTrigger", started, "Succeeded", detail=str(response.status))
    return response


def _strip_prefix(path: str, route_prefix: str) -> str | None:
    """The path below the route prefix (matched case-insensitively), or None outside it."""
    if not route_prefix:
        return path
    parts = path.lstrip("/").split("/", 1)
    if parts[0].lower() != route_prefix.lower():
        return None
    return parts[1] if len(parts) > 1 else ""


def add_routes(app: web.Application) -> None:
    """The catch-all that feeds the route table; registered last so runtime paths win."""
    app.router.add_route("*", "/{tail:.*}", handle)
