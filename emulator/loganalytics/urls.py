"""Log Analytics paths, served on the same TLS endpoint as ARM (before ARM's catch-all route).

The app's Log Analytics endpoint is then ``https://127.0.0.1:PORT/v1``, as
``https://api.loganalytics.io/v1`` is in Azure.
"""

from __future__ import annotations

from aiohttp import web

from emulator.loganalytics import responses

routes = web.RouteTableDef()
routes.route("GET", "/v1/workspaces/{workspace}/query")(responses.query_entry)
routes.route("POST", "/v1/workspaces/{workspace}/query")(responses.query_entry)
routes.route("*", "/v1/{tail:.*}")(responses.path_not_found)

HANDLERS = [responses.query_workspace]
"""The emulated Log Analytics operations, for docs/emulator.md's COVERAGE list."""
