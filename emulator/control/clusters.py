"""Control routes for clusters: list, add, remove, connectivity, out-of-band edits."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from emulator.connectedclusters.models import ConnectedCluster
from emulator.control.wire import body, error, refusal, validation_failed
from emulator.exceptions import ArmError, Conflict
from emulator.fluxconfigurations.exceptions import NOT_FOUND_MSG
from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.keys import BACKEND
from emulator.scenario import ClusterSpec

CLUSTER_UNKNOWN_MSG = "no cluster named '{name}'"
CLUSTER_AMBIGUOUS_MSG = (
    "{count} clusters are named '{name}'; add ?resourceGroup= and/or ?subscriptionId="
)
STATUS_REQUIRED_MSG = (
    "'status' is required: one of Connecting, Connected, Offline, Expired, AgentNotInstalled"
)

routes = web.RouteTableDef()


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
        raise refusal(web.HTTPNotFound, CLUSTER_UNKNOWN_MSG.format(name=name))
    if len(found) > 1:
        message = CLUSTER_AMBIGUOUS_MSG.format(count=len(found), name=name)
        raise refusal(web.HTTPConflict, message)
    return found[0]


def _configuration(request: web.Request, cluster: ConnectedCluster) -> FluxConfiguration | None:
    return cluster.configurations.get(request.match_info["configuration"].lower())


def _not_found(request: web.Request, cluster: ConnectedCluster) -> web.Response:
    name = request.match_info["configuration"]
    return error(404, NOT_FOUND_MSG.format(name=name, resource_group=cluster.resource_group))


def summary(cluster: ConnectedCluster) -> dict[str, Any]:
    """The short form: where the cluster is, its tags and connectivity, and per configuration
    what the RP and Flux report."""
    where = {
        "id": cluster.id,
        "name": cluster.name,
        "resourceGroup": cluster.resource_group,
        "subscriptionId": cluster.subscription_id,
    }
    return {
        **where,
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


@routes.get("/_emulator/clusters")
async def list_clusters(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    return web.json_response([summary(c) for c in backend.clusters.values()])


@routes.post("/_emulator/clusters")
async def add_cluster(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    try:
        spec = ClusterSpec.model_validate(await body(request))
    except ValidationError as problem:
        raise validation_failed(problem) from problem
    try:
        cluster = backend.add_cluster(spec)
    except Conflict as conflict:
        return error(409, conflict.message)
    return web.json_response(summary(cluster), status=201)


@routes.delete("/_emulator/clusters/{name}")
async def remove_cluster(request: web.Request) -> web.Response:
    request.app[BACKEND].remove_cluster(_cluster(request))
    return web.Response(status=204)


@routes.post("/_emulator/clusters/{name}/connectivity")
async def set_connectivity(request: web.Request) -> web.Response:
    cluster = _cluster(request)
    status = (await body(request)).get("status")
    if not isinstance(status, str):
        return error(400, STATUS_REQUIRED_MSG)
    try:
        request.app[BACKEND].set_connectivity(cluster, status)
    except ValueError as problem:
        return error(400, str(problem))
    return web.json_response(summary(cluster))


@routes.post("/_emulator/clusters/{name}/configurations/{configuration}/edit")
async def edit_configuration(request: web.Request) -> web.Response:
    cluster = _cluster(request)
    config = _configuration(request, cluster)
    if config is None:
        return _not_found(request, cluster)
    edit = await body(request)
    patch = edit.get("properties", edit)
    try:
        request.app[BACKEND].edit_out_of_band(cluster, config, patch)
    except ArmError as problem:
        return error(problem.status, problem.message, problem.details)
    return web.json_response(config.to_arm())


@routes.get("/_emulator/clusters/{name}/configurations/{configuration}/protected")
async def protected_settings(request: web.Request) -> web.Response:
    """What a configuration holds in ``configurationProtectedSettings`` (test introspection:
    Azure has no such read)."""
    cluster = _cluster(request)
    config = _configuration(request, cluster)
    if config is None:
        return _not_found(request, cluster)
    values = dict(config.spec.get("configurationProtectedSettings") or {})
    return web.json_response({"keys": sorted(values), "values": values})
