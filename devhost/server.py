"""The aiohttp application: `init()` wires config, functions, engine and routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from devhost import __version__, easyauth, eventgrid, signin
from devhost import http as http_triggers
from devhost.auth import authorized
from devhost.config import HostConfig
from devhost.durable import api as durable_api
from devhost.durable.engine import Engine
from devhost.durable.store import Store
from devhost.invoke import Invoker
from devhost.loader import FunctionIndex
from devhost.state import (
    CONFIG,
    ENDPOINT,
    ENGINE,
    INDEX,
    INVOKER,
    LISTENING,
    ROUTES,
    STORE,
    TIMERS,
    Endpoint,
)
from devhost.timers import TimerRunner

log = logging.getLogger("devhost")

STATE_FILE = "devhost.sqlite3"


async def host_status(request: web.Request) -> web.StreamResponse:
    """GET /admin/host/status: 200 with state Running once the host serves requests."""
    index = request.app[INDEX]
    return web.json_response(
        {
            "state": "Running",
            "version": __version__,
            "processId": os.getpid(),
            "functions": sorted(s.name for s in index.all.values()),
            "durable": dict(request.app[ENGINE].stats),
        }
    )


async def invoke_function(request: web.Request) -> web.StreamResponse:
    """POST /admin/functions/{name} (master key): run a timer function once, now (202)."""
    if not authorized(request, "ADMIN", request.app[CONFIG]):
        return web.Response(status=401)
    name = request.match_info["name"]
    timers = request.app.get(TIMERS)
    if timers is None or timers.find(name) is None:
        return web.json_response(
            {"error": f"no timer function named '{name}'; only timer functions run this way"},
            status=404,
        )
    asyncio.get_running_loop().create_task(timers.invoke_now(name))
    return web.Response(status=202)


async def list_functions(request: web.Request) -> web.StreamResponse:
    """GET /admin/functions (master key): each function with its trigger binding."""
    if not authorized(request, "ADMIN", request.app[CONFIG]):
        return web.Response(status=401)
    index = request.app[INDEX]
    return web.json_response(
        [
            {"name": s.name, "trigger": s.trigger}
            for s in sorted(index.all.values(), key=lambda s: s.name)
        ]
    )


async def _background(app: web.Application) -> AsyncIterator[None]:
    """Run the durable engine and the timers for the lifetime of the app."""
    engine = app[ENGINE]
    timers = TimerRunner(
        app[INDEX].timers,
        app[STORE],
        app[INVOKER],
        str(app[CONFIG].app_dir),
        lambda: http_triggers.durable_client_json(app[CONFIG], app[ENDPOINT]),
    )
    app[TIMERS] = timers

    async def run_timers() -> None:
        await app[LISTENING].wait()
        await timers.run()

    tasks = [
        asyncio.create_task(engine.run(), name="durable-engine"),
        asyncio.create_task(run_timers(), name="timers"),
    ]

    def crashed(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s stopped", task.get_name(), exc_info=task.exception())

    for task in tasks:
        task.add_done_callback(crashed)
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await _close_durable_client_session()
    engine.close()
    app[STORE].close()


async def _close_durable_client_session() -> None:
    """Close the aiohttp session the Durable Functions SDK keeps for its client's calls.

    The SDK never closes it (in Azure the worker process just ends); left open, aiohttp logs
    "Unclosed client session" as an ERROR when devhost stops, a false alarm in every log."""
    http_utils = sys.modules.get("azure.durable_functions.models.utils.http_utils")
    close = getattr(http_utils, "_close_session", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def init(
    config: HostConfig,
    index: FunctionIndex,
    endpoint: Endpoint | None = None,
) -> web.Application:
    """Build the devhost application for an already loaded function app.

    Whoever binds the socket sets `app[LISTENING]` (and the endpoint's port) afterwards;
    timer triggers start then, so a timer function can call devhost's own APIs.
    """
    app = web.Application(
        client_max_size=100 * 1024 * 1024, middlewares=easyauth.middlewares(config)
    )
    store = Store(config.state_dir / STATE_FILE)
    try:
        easyauth.setup(app, config)
        signin.add_routes(app)
    except Exception:
        store.close()
        raise
    threads = int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "0") or 0) or min(
        32, (os.cpu_count() or 1) + 4
    )
    app[CONFIG] = config
    app[INDEX] = index
    app[STORE] = store
    app[ENGINE] = Engine(config, index, store)
    app[INVOKER] = Invoker(ThreadPoolExecutor(threads, thread_name_prefix="function"))
    app[ENDPOINT] = endpoint or Endpoint(config.host, config.port)
    app[ROUTES] = http_triggers.build_routes(index)
    app[LISTENING] = asyncio.Event()
    app.cleanup_ctx.append(_background)
    app.router.add_get("/admin/host/status", host_status)
    app.router.add_get("/admin/functions", list_functions)
    app.router.add_post("/admin/functions/{name}", invoke_function)
    eventgrid.add_routes(app)
    durable_api.add_routes(app)
    http_triggers.add_routes(app)
    return app
