"""The control API under ``/_emulator/`` (JSON, no auth): drive the fleet from tests and demos.

=======  =====================================================  ===============================
GET      /_emulator/health                                      liveness, fleet size
GET      /_emulator/clusters                                    every cluster, short form
POST     /_emulator/clusters                                    add one (scenario cluster shape)
DELETE   /_emulator/clusters/{name}                             remove one
POST     /_emulator/clusters/{name}/connectivity                ``{"status": "Offline"}``
POST     /_emulator/clusters/{name}/configurations/{cfg}/edit   out-of-band merge patch
GET      /_emulator/clusters/{name}/configurations/{cfg}/protected  stored protected settings
GET      /_emulator/faults                                      current faults
PUT      /_emulator/faults                                      replace faults
PATCH    /_emulator/faults                                      merge into faults
GET      /_emulator/branches                                    branch heads
PUT      /_emulator/branches/{branch}                           ``{"sha": "..."}`` move a head
GET      /_emulator/flux                                        progression and delays
PATCH    /_emulator/flux                                        ``{"progression": "manual"}`` ...
POST     /_emulator/flux/reconcile                              run pending reconciles now
GET      /_emulator/keyvault/secrets                            secret names (never values)
PUT      /_emulator/keyvault/secrets/{name}                     ``{"value": "..."}`` new version
DELETE   /_emulator/keyvault/secrets/{name}                     forget a secret
GET      /_emulator/monitor                                     metrics, query failures, workspaces
PUT      /_emulator/monitor                                     replace them
PATCH    /_emulator/monitor                                     merge (``metrics`` by name)
GET      /_emulator/monitor/series                              every cluster's values now
GET      /_emulator/writes                                      the ARM write log
DELETE   /_emulator/writes                                      clear the write log
GET      /_emulator/events                                      event delivery counters
POST     /_emulator/reset                                       back to the scenario
=======  =====================================================  ===============================

Cluster paths take ``?resourceGroup=`` and ``?subscriptionId=`` when a name is ambiguous.
The ``protected`` read is test-side introspection: Azure never returns protected settings.
"""

from __future__ import annotations

from aiohttp.web import AbstractRouteDef

from emulator.control import clusters, faults, flux, keyvault, monitor, service

routes: list[AbstractRouteDef] = [
    *service.routes,
    *clusters.routes,
    *faults.routes,
    *flux.routes,
    *keyvault.routes,
    *monitor.routes,
]
