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
GET      /_emulator/writes                                      the ARM write log
DELETE   /_emulator/writes                                      clear the write log
GET      /_emulator/events                                      event delivery counters
POST     /_emulator/reset                                       back to the scenario
=======  =====================================================  ===============================

Cluster paths take ``?resourceGroup=`` and ``?subscriptionId=`` when a name is ambiguous.
The ``protected`` read is test-side introspection: Azure never returns protected settings.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from emulator.connectedclusters.models import ConnectedCluster
from emulator.exceptions import ArmError, Conflict
from emulator.fluxconfigurations.exceptions import NOT_FOUND_MSG
from emulator.keys import BACKEND
from emulator.keyvault.models import SECRET_NAME
from emulator.scenario import ClusterSpec, FailureRule, FaultsSpec, FluxSource, FluxSpec

CLUSTER_UNKNOWN_MSG = "no cluster named '{name}'"
CLUSTER_AMBIGUOUS_MSG = (
    "{count} clusters are named '{name}'; add ?resourceGroup= and/or ?subscriptionId="
)
BODY_INVALID_MSG = "request body must be a JSON object"
SHA_INVALID_MSG = "'sha' must be a 7 to 64 character hex commit id"
SECRET_NAME_MSG = "secret name '{name}' is invalid: 1 to 127 letters, digits and '-'"
SECRET_VALUE_MSG = "'value' is required and must be a string"
SECRET_UNKNOWN_MSG = "no Key Vault secret named '{name}'"
REDACTED = "<redacted>"
STATUS_REQUIRED_MSG = (
    "'status' is required: one of Connecting, Connected, Offline, Expired, AgentNotInstalled"
)

routes = web.RouteTableDef()


def _error(status: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError as error:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{BODY_INVALID_MSG}: {error}"}),
            content_type="application/json",
        ) from error
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": BODY_INVALID_MSG}), content_type="application/json"
        )
    return body


def _validation_failed(error: ValidationError) -> web.HTTPBadRequest:
    errors = [
        {"loc": ".".join(str(p) for p in item["loc"]), "type": item["type"], "msg": item["msg"]}
        for item in error.errors()
    ]
    return web.HTTPBadRequest(
        text=json.dumps({"error": f"{len(errors)} validation error(s)", "errors": errors}),
        content_type="application/json",
    )


def _cluster(request: web.Request) -> ConnectedCluster:
    backend = request.app[BACKEND]
    name = request.match_info["name"]
    group = request.query.get("resourceGroup")
    subscription = request.query.get("subscriptionId")
    found = [
        c
        for c in backend.clusters_named(name)
        if (group is None or c.resource_group.lower() == group.lower())
        and (subscription is None or c.subscription_id.lower() == subscription.lower())
    ]
    if not found:
        raise web.HTTPNotFound(
            text=json.dumps({"error": CLUSTER_UNKNOWN_MSG.format(name=name)}),
            content_type="application/json",
        )
    if len(found) > 1:
        raise web.HTTPConflict(
            text=json.dumps({"error": CLUSTER_AMBIGUOUS_MSG.format(count=len(found), name=name)}),
            content_type="application/json",
        )
    return found[0]


def _summary(cluster: ConnectedCluster) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "name": cluster.name,
        "resourceGroup": cluster.resource_group,
        "subscriptionId": cluster.subscription_id,
        "tags": cluster.tags,
        "connectivityStatus": cluster.connectivity_status,
        "configurations": {
            config.name: {
                "complianceState": config.compliance_state,
                "provisioningState": config.provisioning_state,
                "sourceSyncedCommitId": config.source_synced_commit_id,
            }
            for config in cluster.configurations.values()
        },
    }


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    return web.json_response(
        {"status": "ok", "clusters": len(backend.clusters), "pendingReconciles": len(backend.queue)}
    )


@routes.get("/_emulator/clusters")
async def list_clusters(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    return web.json_response([_summary(c) for c in backend.clusters.values()])


@routes.post("/_emulator/clusters")
async def add_cluster(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    try:
        spec = ClusterSpec.model_validate(await _body(request))
    except ValidationError as error:
        raise _validation_failed(error) from error
    try:
        cluster = backend.add_cluster(spec)
    except Conflict as error:
        return _error(409, error.message)
    return web.json_response(_summary(cluster), status=201)


@routes.delete("/_emulator/clusters/{name}")
async def remove_cluster(request: web.Request) -> web.Response:
    request.app[BACKEND].remove_cluster(_cluster(request))
    return web.Response(status=204)


@routes.post("/_emulator/clusters/{name}/connectivity")
async def set_connectivity(request: web.Request) -> web.Response:
    cluster = _cluster(request)
    status = (await _body(request)).get("status")
    if not isinstance(status, str):
        return _error(400, STATUS_REQUIRED_MSG)
    try:
        request.app[BACKEND].set_connectivity(cluster, status)
    except ValueError as error:
        return _error(400, str(error))
    return web.json_response(_summary(cluster))


@routes.post("/_emulator/clusters/{name}/configurations/{configuration}/edit")
async def edit_configuration(request: web.Request) -> web.Response:
    cluster = _cluster(request)
    name = request.match_info["configuration"]
    config = cluster.configurations.get(name.lower())
    if config is None:
        return _error(404, NOT_FOUND_MSG.format(name=name, resource_group=cluster.resource_group))
    body = await _body(request)
    patch = body.get("properties", body)
    try:
        request.app[BACKEND].edit_out_of_band(cluster, config, patch)
    except ArmError as error:
        return _error(error.status, error.message, error.details)
    return web.json_response(config.to_arm())


@routes.get("/_emulator/clusters/{name}/configurations/{configuration}/protected")
async def protected_settings(request: web.Request) -> web.Response:
    """What a configuration holds in ``configurationProtectedSettings`` (test introspection:
    Azure has no such read)."""
    cluster = _cluster(request)
    name = request.match_info["configuration"]
    config = cluster.configurations.get(name.lower())
    if config is None:
        return _error(404, NOT_FOUND_MSG.format(name=name, resource_group=cluster.resource_group))
    values = dict(config.spec.get("configurationProtectedSettings") or {})
    return web.json_response({"keys": sorted(values), "values": values})


@routes.get("/_emulator/faults")
async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].faults.to_wire())


async def _apply_faults(request: web.Request, merge: bool) -> web.Response:
    backend = request.app[BACKEND]
    body = await _body(request)
    current = backend.faults.to_wire()
    data = {**current, **body} if merge else body
    failures = data.pop("failures", [])
    offline = data.get("offline")
    try:
        spec = FaultsSpec.model_validate({**data, "seed": None})
        rules = [FailureRule.model_validate(rule) for rule in failures or []]
    except ValidationError as error:
        raise _validation_failed(error) from error
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


@routes.get("/_emulator/branches")
async def get_branches(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].flux.branch_heads)


@routes.put("/_emulator/branches/{branch:.+}")
async def move_branch(request: web.Request) -> web.Response:
    sha = (await _body(request)).get("sha")
    if not isinstance(sha, str) or not (7 <= len(sha) <= 64) or not _is_hex(sha):
        return _error(400, SHA_INVALID_MSG)
    branch = request.match_info["branch"]
    scheduled = request.app[BACKEND].move_branch(branch, sha)
    return web.json_response({"branch": branch, "sha": sha, "scheduled": scheduled})


FLUX_SETTINGS = (
    "progression",
    "reconcileSeconds",
    "sources",
    "ociRevisionForm",
    "ociRevisionRules",
)
"""The ``flux`` scenario keys ``PATCH /_emulator/flux`` may change."""


def _redacted_source(source: FluxSource) -> dict[str, Any]:
    """A ``flux.sources`` entry without its secrets: which forms it accepts, not the keys."""
    wire = source.model_dump(by_alias=True, exclude_none=True)
    accept = wire.get("accept") or {}
    for key in ("sshPrivateKey", "httpsKey"):
        if key in accept:
            accept[key] = REDACTED
    if "tls" in accept:
        accept["tls"]["privateKey"] = REDACTED
    return wire


def _flux_settings(flux: FluxSpec) -> dict[str, Any]:
    return {
        "progression": flux.progression,
        "reconcileSeconds": flux.reconcile_seconds.model_dump(by_alias=True),
        "sources": [_redacted_source(source) for source in flux.sources],
        "ociRevisionForm": flux.oci_revision_form,
        "ociRevisionRules": [rule.model_dump(by_alias=True) for rule in flux.oci_revision_rules],
    }


@routes.get("/_emulator/flux")
async def get_flux(request: web.Request) -> web.Response:
    return web.json_response(_flux_settings(request.app[BACKEND].flux))


@routes.patch("/_emulator/flux")
async def patch_flux(request: web.Request) -> web.Response:
    """Change how reconciles progress (``time``, ``immediate``, ``manual``) and their delays,
    the private sources (replaced as a whole) and how OCI revisions are reported."""
    backend = request.app[BACKEND]
    flux = backend.flux
    body = await _body(request)
    unknown = sorted(set(body) - set(FLUX_SETTINGS))
    if unknown:
        return _error(400, f"unknown flux settings {unknown}; allowed: {list(FLUX_SETTINGS)}")
    current = flux.model_dump(by_alias=True, include=_FLUX_FIELDS)
    try:
        updated = FluxSpec.model_validate({**current, **body})
    except ValidationError as error:
        raise _validation_failed(error) from error
    flux.progression = updated.progression
    flux.reconcile_seconds = updated.reconcile_seconds
    flux.oci_revision_form = updated.oci_revision_form
    flux.oci_revision_rules = updated.oci_revision_rules
    if "sources" in body:
        flux.sources = updated.sources
        backend.retry_failed_sources()
    return web.json_response(_flux_settings(flux))


_FLUX_FIELDS = {
    "progression",
    "reconcile_seconds",
    "sources",
    "oci_revision_form",
    "oci_revision_rules",
}


@routes.post("/_emulator/flux/reconcile")
async def reconcile(request: web.Request) -> web.Response:
    return web.json_response({"reconciled": request.app[BACKEND].reconcile_now()})


@routes.get("/_emulator/keyvault/secrets")
async def list_secrets(request: web.Request) -> web.Response:
    """The Key Vault stand-in's secret names; values are never listed."""
    return web.json_response(request.app[BACKEND].vault.names())


@routes.put("/_emulator/keyvault/secrets/{name}")
async def set_secret(request: web.Request) -> web.Response:
    """Store ``{"value": ...}`` as a new version; answers the name and version, not the value."""
    name = request.match_info["name"]
    if not SECRET_NAME.match(name):
        return _error(400, SECRET_NAME_MSG.format(name=name))
    value = (await _body(request)).get("value")
    if not isinstance(value, str):
        return _error(400, SECRET_VALUE_MSG)
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
        return _error(404, SECRET_UNKNOWN_MSG.format(name=name))
    return web.Response(status=204)


@routes.get("/_emulator/writes")
async def get_writes(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].writes)


@routes.delete("/_emulator/writes")
async def clear_writes(request: web.Request) -> web.Response:
    request.app[BACKEND].writes.clear()
    return web.Response(status=204)


@routes.get("/_emulator/events")
async def event_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].events.stats())


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    backend.reset()
    return web.json_response({"status": "reset", "clusters": len(backend.clusters)})


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
