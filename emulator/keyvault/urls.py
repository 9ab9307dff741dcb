"""Key Vault paths, served on the same TLS endpoint as ARM (before ARM's catch-all route)."""

from __future__ import annotations

from aiohttp import web

from emulator.keyvault import responses

routes = web.RouteTableDef()
routes.route("*", "/secrets")(responses.secrets_entry)
routes.route("*", "/secrets/{tail:.*}")(responses.secrets_entry)

HANDLERS = [responses.get_secret]
"""The emulated Key Vault operations, for docs/emulator.md's COVERAGE list."""
