"""Handlers: parse the request, ask the backend, answer in ARM's wire shape."""

from __future__ import annotations

from aiohttp import web

from emulator.arm import CLUSTER_RESOURCE_TYPE, json_response, page, require_api_version
from emulator.backend import Backend
from emulator.connectedclusters.exceptions import (
    CLUSTER_NOT_FOUND_MSG,
    RESOURCE_GROUP_NOT_FOUND_MSG,
    SUBSCRIPTION_NOT_FOUND_MSG,
    ClusterNotFound,
    ResourceGroupNotFound,
    SubscriptionNotFound,
)
from emulator.keys import BACKEND

API_VERSIONS = (
    "2021-03-01",
    "2021-10-01",
    "2022-05-01-preview",
    "2022-10-01-preview",
    "2023-11-01-preview",
    "2024-01-01",
    "2024-02-01-preview",
    "2024-06-01-preview",
    "2024-07-01-preview",
    "2024-07-15-preview",
    "2024-12-01-preview",
    "2025-08-01-preview",
    "2026-03-01",
)


def _check_subscription(backend: Backend, subscription: str) -> None:
    known = {backend.scenario.subscription_id.lower()} | {k[0] for k in backend.clusters}
    if subscription.lower() not in known:
        raise SubscriptionNotFound(SUBSCRIPTION_NOT_FOUND_MSG.format(subscription=subscription))


async def get_cluster(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, CLUSTER_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    cluster = backend.find_cluster(match["subscription"], match["group"], match["cluster"])
    if cluster is None:
        raise ClusterNotFound(
            CLUSTER_NOT_FOUND_MSG.format(name=match["cluster"], resource_group=match["group"])
        )
    return json_response(cluster.to_arm(version))


async def list_by_resource_group(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, CLUSTER_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    _check_subscription(backend, match["subscription"])
    clusters = backend.clusters_in(match["subscription"], match["group"])
    default_group = backend.scenario.defaults.resource_group.lower()
    if not clusters and match["group"].lower() != default_group:
        raise ResourceGroupNotFound(
            RESOURCE_GROUP_NOT_FOUND_MSG.format(resource_group=match["group"])
        )
    items = [cluster.to_arm(version) for cluster in clusters]
    return json_response(page(request, items, backend.scenario.arm.page_size))


async def list_by_subscription(request: web.Request, match: dict[str, str]) -> web.Response:
    version = require_api_version(request, API_VERSIONS, CLUSTER_RESOURCE_TYPE)
    backend = request.app[BACKEND]
    _check_subscription(backend, match["subscription"])
    items = [cluster.to_arm(version) for cluster in backend.clusters_in(match["subscription"])]
    return json_response(page(request, items, backend.scenario.arm.page_size))
