"""Control routes for the synthetic Azure Monitor data: metrics, query faults, current values."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from emulator.control.wire import body, validation_failed
from emulator.keys import BACKEND
from emulator.metrics import MonitorSpec, samples

routes = web.RouteTableDef()


@routes.get("/_emulator/monitor")
async def get_monitor(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].monitor.to_wire())


async def _apply(request: web.Request, merge: bool) -> web.Response:
    state = request.app[BACKEND].monitor
    given = await body(request)
    data: dict[str, Any] = given
    if merge:
        current = state.to_wire()
        metrics: dict[str, Any] = dict(state.spec.model_dump(by_alias=True)["metrics"])
        for name, spec in (given.get("metrics") or {}).items():
            if spec is None:
                metrics.pop(name, None)
            else:
                metrics[name] = spec
        data = {**current, **given, "metrics": metrics}
    try:
        state.spec = MonitorSpec.model_validate(data)
    except ValidationError as problem:
        raise validation_failed(problem) from problem
    return web.json_response(state.to_wire())


@routes.put("/_emulator/monitor")
async def put_monitor(request: web.Request) -> web.Response:
    """Replace the metrics, query failures and workspaces."""
    return await _apply(request, merge=False)


@routes.patch("/_emulator/monitor")
async def patch_monitor(request: web.Request) -> web.Response:
    """Merge: ``metrics`` by name (``null`` removes one); other keys replace."""
    return await _apply(request, merge=True)


@routes.get("/_emulator/monitor/series")
async def get_series(request: web.Request) -> web.Response:
    """Every connected cluster's value of every metric, now."""
    backend = request.app[BACKEND]
    backend.advance()
    return web.json_response(
        [
            {
                "metric": s.metric,
                "clusterId": s.cluster_id,
                "cluster": s.cluster,
                "revision": s.revision,
                "value": s.value,
            }
            for s in samples(backend)
        ]
    )
