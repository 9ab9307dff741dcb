"""ARM conventions shared by the emulated services: ids, timestamps, JSON responses, paging."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from emulator.exceptions import (
    INVALID_API_VERSION_MSG,
    MISSING_API_VERSION_MSG,
    ArmError,
    InvalidApiVersionParameter,
    MissingApiVersionParameter,
)

CLUSTER_RP = "Microsoft.Kubernetes"
CLUSTER_TYPE = "connectedClusters"
CLUSTER_RESOURCE_TYPE = f"{CLUSTER_RP}/{CLUSTER_TYPE}"
FLUX_RP = "Microsoft.KubernetesConfiguration"
FLUX_RESOURCE_TYPE = f"{FLUX_RP}/fluxConfigurations"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ARM's timestamp format: RFC 3339 in UTC with a ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(utc_now())


def cluster_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/{CLUSTER_RP}/{CLUSTER_TYPE}/{name}"
    )


def configuration_id(cluster: str, name: str) -> str:
    return f"{cluster}/providers/{FLUX_RESOURCE_TYPE}/{name}"


def new_request_id() -> str:
    return str(uuid.uuid4())


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with the request-id headers ARM puts on every answer."""
    request_id = new_request_id()
    all_headers = {
        "x-ms-request-id": request_id,
        "x-ms-correlation-request-id": request_id,
        "x-ms-routing-request-id": f"EMULATOR:{request_id}",
        "Cache-Control": "no-cache",
    }
    all_headers.update(headers or {})
    if body is None:
        return web.Response(status=status, headers=all_headers)
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        charset="utf-8",
        headers=all_headers,
    )


def error_response(error: ArmError) -> web.Response:
    return json_response(error.body(), status=error.status, headers=error.headers)


def require_api_version(
    request: web.Request, supported: tuple[str, ...], resource_type: str
) -> str:
    """The request's api-version, or ARM's 400 when it is missing or unknown."""
    version = request.query.get("api-version")
    if not version:
        raise MissingApiVersionParameter(MISSING_API_VERSION_MSG)
    if version not in supported:
        raise InvalidApiVersionParameter(
            INVALID_API_VERSION_MSG.format(
                resource_type=resource_type,
                api_version=version,
                supported=", ".join(supported),
            )
        )
    return version


def encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    """Decode an opaque paging token; None when it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def page(request: web.Request, items: list[dict[str, Any]], page_size: int) -> dict[str, Any]:
    """One ARM list page: ``{"value": [...], "nextLink": url-or-null}`` with a ``$skipToken``."""
    token = request.query.get("$skipToken")
    start = 0
    if token:
        decoded = decode_token(token)
        if decoded is not None and isinstance(decoded.get("skip"), int):
            start = max(0, decoded["skip"])
    end = start + page_size
    next_link = None
    if end < len(items):
        next_link = str(
            request.url.with_query({**request.query, "$skipToken": encode_token({"skip": end})})
        )
    return {"value": items[start:end], "nextLink": next_link}


def base_url(request: web.Request) -> str:
    """The scheme and authority the client used, for links the emulator hands out."""
    return f"{request.scheme}://{request.host}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch, as ARM applies a PATCH: ``null`` removes a key, objects
    merge, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
