"""Prometheus API paths, served on the same TLS endpoint as ARM (before ARM's catch-all route).

The emulator's endpoint is then an Azure Monitor workspace's query endpoint
(``https://<workspace>.<region>.prometheus.monitor.azure.com`` in Azure).
"""

from __future__ import annotations

from aiohttp import web

from emulator.prometheus import responses

routes = web.RouteTableDef()
routes.route("GET", "/api/v1/query")(responses.query_entry)
routes.route("POST", "/api/v1/query")(responses.query_entry)
routes.route("*", "/api/v1/{tail:.*}")(responses.not_emulated)

HANDLERS = [responses.instant_query]
"""The emulated Prometheus operations, for docs/emulator.md's COVERAGE list."""
