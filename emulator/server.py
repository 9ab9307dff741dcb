"""The aiohttp application: ARM entry point, Key Vault, Azure Monitor queries, control API, Flux
ticker, events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator import control, events
from emulator.arm import cluster_id, error_response, now_iso
from emulator.backend import Backend
from emulator.connectedclusters import urls as connectedclusters_urls
from emulator.exceptions import (
    AUTH_INVALID_MSG,
    AUTH_MISSING_MSG,
    INTERNAL_ERROR_MSG,
    INVALID_RESOURCE_TYPE_MSG,
    UNAVAILABLE_MSG,
    ArmError,
    AuthenticationFailed,
    InternalServerError,
    InvalidResourceType,
    ServiceUnavailable,
    TooManyRequests,
)
from emulator.fluxconfigurations import urls as fluxconfigurations_urls
from emulator.fluxconfigurations.responses import WRITE_REF
from emulator.keys import BACKEND, STATE_PATH
from emulator.keyvault import urls as keyvault_urls
from emulator.loganalytics import urls as loganalytics_urls
from emulator.persistence import load_state, save_state
from emulator.prometheus import urls as prometheus_urls
from emulator.resourcegraph import urls as resourcegraph_urls
from emulator.routing import RESPONSE_HEADERS, Route, resolve
from emulator.scenario import Scenario
from emulator.throttle import operation_type
from emulator.tls import TlsFiles

log = logging.getLogger(__name__)

ROUTES: list[Route] = [
    *fluxconfigurations_urls.url_paths,
    *connectedclusters_urls.url_paths,
    *resourcegraph_urls.url_paths,
]
WRITE_METHODS = {"PUT", "PATCH", "DELETE"}
BEARER = re.compile(r"^Bearer\s+\S+", re.I)
WWW_AUTHENTICATE = (
    'Bearer authorization_uri="https://login.microsoftonline.com/common", '
    'error="invalid_token", error_description="The authentication failed because of missing '
    "'Authorization' header.\""
)
TICK_SECONDS = 0.02
SAVE_INTERVAL = 0.5
METHOD_NOT_ALLOWED_MSG = "The requested resource does not support http method '{method}'."


class MethodNotAllowed(ArmError):
    code = "HttpMethodNotAllowed"
    status = 405


def _authenticate(request: web.Request) -> None:
    header = request.headers.get("Authorization")
    if not header:
        raise AuthenticationFailed(AUTH_MISSING_MSG, headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    if not BEARER.match(header):
        raise AuthenticationFailed(AUTH_INVALID_MSG, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def _injected_error(backend: Backend) -> ArmError | None:
    if not backend.faults.roll_arm_error():
        return None
    if backend.faults.rng.random() < 0.5:
        return InternalServerError(INTERNAL_ERROR_MSG.format(time=now_iso()))
    return ServiceUnavailable(UNAVAILABLE_MSG.format(seconds=1), headers={"Retry-After": "1"})


async def arm_entry(request: web.Request) -> web.StreamResponse:
    """Every ARM and Resource Graph request: auth, faults, throttling, dispatch, write log."""
    backend = request.app[BACKEND]
    backend.advance()
    resolved = resolve(ROUTES, request.path)
    quota_headers: dict[str, str] = {}
    try:
        _authenticate(request)
        if resolved is None:
            raise InvalidResourceType(INVALID_RESOURCE_TYPE_MSG.format(path=request.path))
        route, match = resolved
        handler = route.methods.get(request.method)
        if handler is None:
            raise MethodNotAllowed(METHOD_NOT_ALLOWED_MSG.format(method=request.method))
        subscription = match.get("subscription")
        if subscription:
            injected = _injected_error(backend)
            if injected is not None:
                raise injected
            if backend.throttle is not None:
                try:
                    quota_headers = backend.throttle.admit(subscription, request.method)
                except TooManyRequests:
                    backend.throttled[operation_type(request.method)] += 1
                    raise
        response = await handler(request, match)
    except ArmError as error:
        response = error_response(error)
    except Exception:
        log.exception("unhandled error for %s %s", request.method, request.path)
        response = error_response(InternalServerError(INTERNAL_ERROR_MSG.format(time=now_iso())))
    for name, value in quota_headers.items():
        response.headers.setdefault(name, value)
    extra = request.get(RESPONSE_HEADERS)
    if extra is None and resolved is not None and resolved[0].headers is not None:
        extra = resolved[0].headers(request)
    for name, value in (extra or {}).items():
        response.headers.setdefault(name, value)
    if resolved is not None and resolved[0].write_log and request.method in WRITE_METHODS:
        await _log_write(request, backend, resolved[1], response.status)
    return response


async def _log_write(
    request: web.Request, backend: Backend, match: dict[str, str], status: int
) -> None:
    cluster = backend.find_cluster(match["subscription"], match["group"], match["cluster"])
    ref = request.get(WRITE_REF)
    if ref is None and request.method in {"PUT", "PATCH"}:
        ref = _body_ref(await request.read())
    backend.record_write(
        cluster.id
        if cluster
        else cluster_id(match["subscription"], match["group"], match["cluster"]),
        cluster.name if cluster else match["cluster"],
        match["name"],
        request.method,
        ref if isinstance(ref, dict) else None,
        status,
    )


def _body_ref(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw or b"null")
        ref = body["properties"]["gitRepository"]["repositoryRef"]
    except (ValueError, KeyError, TypeError):
        return None
    return ref if isinstance(ref, dict) else None


async def _flux_ticker(app: web.Application) -> AsyncIterator[None]:
    """Moves operations and reconciles forward and persists state while the server runs."""
    backend = app[BACKEND]
    state_path = app.get(STATE_PATH)

    async def tick() -> None:
        last_save = time.monotonic()
        while True:
            try:
                backend.advance()
                if state_path and backend.dirty and time.monotonic() - last_save >= SAVE_INTERVAL:
                    save_state(backend, state_path)
                    last_save = time.monotonic()
            except Exception:
                log.exception("flux ticker failed; continuing")
            await asyncio.sleep(TICK_SECONDS)

    task = asyncio.create_task(tick())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if state_path:
        save_state(backend, state_path)


async def _event_delivery(app: web.Application) -> AsyncIterator[None]:
    async with events.running(app[BACKEND].events):
        yield


def init(scenario: Scenario, *, state_path: Path | None = None) -> web.Application:
    """The app factory: a fresh backend for ``scenario`` (or the saved fleet in ``state_path``)."""
    backend = Backend(scenario)
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[BACKEND] = backend
    if state_path is not None:
        app[STATE_PATH] = state_path
        load_state(backend, state_path)
    app.add_routes(control.routes)
    app.add_routes(keyvault_urls.routes)
    app.add_routes(loganalytics_urls.routes)
    app.add_routes(prometheus_urls.routes)
    app.router.add_route("*", "/{tail:.*}", arm_entry)
    app.cleanup_ctx.append(_flux_ticker)
    app.cleanup_ctx.append(_event_delivery)
    return app


@dataclass
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop serving; abort connections whose peer never finishes the TLS close."""
        server = self.runner.server
        transports = list(getattr(server, "_connections", {}).values()) if server else []
        await self.runner.cleanup()
        for transport in transports:
            transport.abort()
        await asyncio.sleep(0)


async def start(
    app: web.Application, tls: TlsFiles, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Serve ``app`` over TLS; port 0 picks a free port."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=tls.server_context(), backlog=1024)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return RunningServer(runner, host, bound)
