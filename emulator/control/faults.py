"""Control routes for faults: read, replace (PUT) or merge (PATCH)."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from emulator.control.wire import body, validation_failed
from emulator.keys import BACKEND
from emulator.scenario import FailureRule, FaultsSpec

routes = web.RouteTableDef()


@routes.get("/_emulator/faults")
async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].faults.to_wire())


async def _apply_faults(request: web.Request, merge: bool) -> web.Response:
    backend = request.app[BACKEND]
    given = await body(request)
    current = backend.faults.to_wire()
    data = {**current, **given} if merge else given
    failures = data.pop("failures", [])
    offline = data.get("offline")
    try:
        spec = FaultsSpec.model_validate({**data, "seed": None})
        rules = [FailureRule.model_validate(rule) for rule in failures or []]
    except ValidationError as problem:
        raise validation_failed(problem) from problem
    rng = backend.faults.rng
    backend.set_faults(spec, rules)
    backend.faults.rng = rng
    if offline is not None:
        wanted = {name.lower() for name in offline}
        for cluster in backend.clusters.values():
            if cluster.name.lower() in wanted and cluster.online:
                backend.set_connectivity(cluster, "Offline")
            elif cluster.name.lower() not in wanted and cluster.connectivity_status == "Offline":
                backend.set_connectivity(cluster, "Connected")
    return web.json_response(backend.faults.to_wire())


@routes.put("/_emulator/faults")
async def put_faults(request: web.Request) -> web.Response:
    return await _apply_faults(request, merge=False)


@routes.patch("/_emulator/faults")
async def patch_faults(request: web.Request) -> web.Response:
    return await _apply_faults(request, merge=True)
