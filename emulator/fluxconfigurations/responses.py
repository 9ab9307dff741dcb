"""Handlers for fluxConfigurations: thin parsing over the backend, ARM's wire shapes out."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emulator.arm import (
    CLUSTER_RESOURCE_TYPE,
    FLUX_RESOURCE_TYPE,
    base_url,
    json_response,
    page,
    require_api_version,
)
from emulator.backend import Backend
from emulator.connectedclusters.models import ConnectedCluster
from emulator.exceptions import (
    INVALID_CONTENT_MSG,
    PARENT_NOT_FOUND_MSG,
    InvalidRequestContent,
    ParentResourceNotFound,
    ResourceNotFound,
)
from emulator.fluxconfigurations.checks import DNS_LABEL
from emulator.fluxconfigurations.exceptions import (
    NAME_INVALID_MSG,
    NOT_FOUND_MSG,
    OPERATION_NOT_FOUND_MSG,
    InvalidFluxConfiguration,
)
from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.fluxconfigurations.validation import API_VERSIONS
from emulator.keys import BACKEND
from emulator.operations import Operation

WRITE_REF: web.RequestKey[dict[str, Any] | None] = web.RequestKey("write_ref")
"""The repositoryRef a write carried, for the write log."""
ASYNC_TIMEOUT = "PT48H"


def _cluster(backend: Backend, match: dict[str, str], action: str) -> ConnectedCluster:
    parent = (
        f"/subscriptions/{match['subscription']}/resourceGroups/{match['group']}"
        f"/providers/{match['rp']}/{match['clusterType']}/{match['cluster']}"
    )
    is_arc = f"{match['rp']}/{match['clusterType']}".lower() == CLUSTER_RESOURCE_TYPE.lower()
    cluster = (
        backend.find_cluster(match["subscription"], match["group"], match["cluster"])
        if is_arc
        else None
    )
    if cluster is None:
        raise ParentResourceNotFound(
            PARENT_NOT_FOUND_MSG.format(
                action=action,
                resource_type=f"{match['clusterType']}/providers/fluxConfigurations",
                parent_id=parent,
            )
        )
    return cluster


def _configuration(cluster: ConnectedCluster, name: str) -> FluxConfiguration:
    config = cluster.configurations.get(name.lower())
    if config is None:
        raise ResourceNotFound(
            NOT_FOUND_MSG.format(name=name, resource_group=cluster.resource_group)
        )
    return config


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequestContent(INVALID_CONTENT_MSG.format(reason=error)) from error
    if not isinstance(body, dict):
        raise InvalidRequestContent(INVALID_CONTENT_MSG.format(reason="expected a JSON object"))
    return body


def _async_headers(
    request: web.Request, config: FluxConfiguration, operation: Operation, version: str
) -> dict[str, str]:
    backend = request.app[BACKEND]
    url = f"{base_url(request)}{config.id}/operations/{operation.id}?api-version={version}"
    headers = {"Azure-AsyncOperation": url, "x-ms-async-operation-timeout": ASYNC_TIMEOUT}
    retry_after = backend.scenario.arm.retry_after_seconds
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return headers


def _check_name(name: str) -> None:
    if not DNS_LABEL.match(name):
        raise InvalidFluxConfiguration.from_problems([("name", NAME_INVALID_MSG.format(name=name))])


async def get_configuration(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, FLUX_RESOURCE_TYPE)
    cluster = _cluster(request.app[BACKEND], match, "read")
    return json_response(_configuration(cluster, match["name"]).to_arm(version))


async def list_configurations(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, FLUX_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    cluster = _cluster(backend, match, "read")
    items = [
        config.to_arm(version)
        for _, config in sorted(cluster.configurations.items(), key=lambda item: item[0])
    ]
    return json_response(page(request, items, backend.scenario.arm.page_size))


async def put_configuration(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, FLUX_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    cluster = _cluster(backend, match, "write")
    body = await _json_body(request)
    properties = body.get("properties")
    if isinstance(properties, dict):
        request[WRITE_REF] = (properties.get("gitRepository") or {}).get("repositoryRef")
    _check_name(match["name"])
    config, created, operation = backend.put_configuration(
        cluster, match["name"], properties, version
    )
    backend.events.resource_changed(config.id, FLUX_RESOURCE_TYPE, "PUT", str(request.url))
    return json_response(
        config.to_arm(version),
        status=201 if created else 200,
        headers=_async_headers(request, config, operation, version),
    )


async def patch_configuration(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, FLUX_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    cluster = _cluster(backend, match, "write")
    config = _configuration(cluster, match["name"])
    body = await _json_body(request)
    patch = body.get("properties") or {}
    if not isinstance(patch, dict):
        raise InvalidRequestContent(
            INVALID_CONTENT_MSG.format(reason="properties must be an object")
        )
    operation = backend.patch_configuration(cluster, config, patch, version)
    request[WRITE_REF] = config.repository_ref
    backend.events.resource_changed(config.id, FLUX_RESOURCE_TYPE, "PATCH", str(request.url))
    return json_response(
        config.to_arm(version),
        status=202,
        headers=_async_headers(request, config, operation, version),
    )


async def delete_configuration(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, FLUX_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    cluster = _cluster(backend, match, "delete")
    config = cluster.configurations.get(match["name"].lower())
    if config is None:
        return json_response(None, status=204)
    request[WRITE_REF] = config.repository_ref
    force = request.query.get("forceDelete", "false").lower() == "true"
    operation = backend.delete_configuration(cluster, config, force)
    headers = _async_headers(request, config, operation, version)
    headers["Location"] = headers["Azure-AsyncOperation"]
    return json_response(None, status=202, headers=headers)


async def get_operation(request: web.Request, match: dict[str, str]) -> web.Response:
    require_api_version(request, API_VERSIONS, FLUX_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    cluster = _cluster(backend, match, "read")
    operation = backend.operations.get(match["operation"])
    if operation is None or operation.cluster_key != cluster.key:
        raise ResourceNotFound(
            OPERATION_NOT_FOUND_MSG.format(operation_id=match["operation"], name=match["name"])
        )
    path = f"{cluster.id}/providers/{FLUX_RESOURCE_TYPE}/{match['name']}/operations/{operation.id}"
    body: dict[str, Any] = {
        "id": path,
        "name": operation.id,
        "status": operation.status,
        "startTime": operation.started_at,
        "endTime": operation.ended_at,
        "properties": {},
        "error": None,
    }
    headers = {}
    if operation.status == "InProgress" and backend.scenario.arm.retry_after_seconds:
        headers["Retry-After"] = str(backend.scenario.arm.retry_after_seconds)
    return json_response(body, headers=headers)
