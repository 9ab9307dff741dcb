"""Control routes for the emulator as a whole: health, the write log, 429s answered, event
counters, reset."""

from __future__ import annotations

from aiohttp import web

from emulator.keys import BACKEND

routes = web.RouteTableDef()
THROTTLED_KINDS = ("writes", "deletes", "reads", "resourceGraph")


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    return web.json_response(
        {"status": "ok", "clusters": len(backend.clusters), "pendingReconciles": len(backend.queue)}
    )


@routes.get("/_emulator/writes")
async def get_writes(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].writes)


@routes.delete("/_emulator/writes")
async def clear_writes(request: web.Request) -> web.Response:
    request.app[BACKEND].writes.clear()
    return web.Response(status=204)


@routes.get("/_emulator/throttled")
async def throttled(request: web.Request) -> web.Response:
    """The 429s answered since the scenario loaded (or the last reset), by bucket."""
    counted = request.app[BACKEND].throttled
    return web.json_response({kind: counted[kind] for kind in THROTTLED_KINDS})


@routes.get("/_emulator/events")
async def event_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].events.stats())


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    backend.reset()
    return web.json_response({"status": "reset", "clusters": len(backend.clusters)})
