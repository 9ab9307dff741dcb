"""Control routes for the Key Vault stand-in's secrets: names, new versions, deletes."""

from __future__ import annotations

from aiohttp import web

from emulator.control.wire import body, error
from emulator.keys import BACKEND
from emulator.keyvault.models import SECRET_NAME

SECRET_NAME_MSG = "secret name '{name}' is invalid: 1 to 127 letters, digits and '-'"
SECRET_VALUE_MSG = "'value' is required and must be a string"
SECRET_UNKNOWN_MSG = "no Key Vault secret named '{name}'"

routes = web.RouteTableDef()


@routes.get("/_emulator/keyvault/secrets")
async def list_secrets(request: web.Request) -> web.Response:
    """The Key Vault stand-in's secret names; values are never listed."""
    return web.json_response(request.app[BACKEND].vault.names())


@routes.put("/_emulator/keyvault/secrets/{name}")
async def set_secret(request: web.Request) -> web.Response:
    """Store ``{"value": ...}`` as a new version; answers the name and version, not the value."""
    name = request.match_info["name"]
    if not SECRET_NAME.match(name):
        return error(400, SECRET_NAME_MSG.format(name=name))
    value = (await body(request)).get("value")
    if not isinstance(value, str):
        return error(400, SECRET_VALUE_MSG)
    vault = request.app[BACKEND].vault
    version = vault.set(name, value)
    stored = vault.get(name)
    assert stored is not None
    return web.json_response(
        {"name": stored.name, "version": version.version, "versions": len(stored.versions)}
    )


@routes.delete("/_emulator/keyvault/secrets/{name}")
async def delete_secret(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not request.app[BACKEND].vault.delete(name):
        return error(404, SECRET_UNKNOWN_MSG.format(name=name))
    return web.Response(status=204)
