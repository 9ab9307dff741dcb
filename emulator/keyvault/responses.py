"""Key Vault's data plane for secrets: challenge auth, the secret bundle, Key Vault's errors.

Key Vault is not ARM: it answers on the vault's own host, authenticates with a challenge (a
request without a bearer token gets 401 and a ``WWW-Authenticate`` header naming the tenant's
authority and the resource ``https://vault.azure.net``; azure-keyvault-secrets'
``ChallengeAuthPolicy`` sends its first request that way) and reports errors as
``{"error": {"code", "message"}}``. Any bearer token is accepted after the challenge.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aiohttp import web

from emulator.arm import base_url
from emulator.keys import BACKEND
from emulator.keyvault.models import RECOVERABLE_DAYS, RECOVERY_LEVEL, Secret, SecretVersion

API_VERSIONS = (
    "2016-10-01",
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6",
    "2025-07-01",
    "2026-04-01",
)
"""What azure-keyvault-secrets 4.12.0 can send (``_shared/client_base.py`` ``ApiVersion``)."""
LATEST_API_VERSION = "2026-04-01"
VAULT_RESOURCE = "https://vault.azure.net"
AUTHORITY = "https://login.microsoftonline.com/{tenant}"
CHALLENGE = 'Bearer authorization="{authority}", resource="{resource}"'
BEARER = re.compile(r"^Bearer\s+\S+", re.I)
SECRET_PATH = re.compile(r"^/secrets/(?P<name>[^/]+)(?:/(?P<version>[^/]*))?/?$")
SERVICE_VERSION = "1.9.2708.1"

UNAUTHORIZED_MSG = "AKV10000: Request is missing a Bearer or PoP token."
NOT_FOUND_MSG = (
    "A secret with (name/id) {name} was not found in this key vault. If you recently deleted "
    "this secret you may be able to recover it using the correct recovery command. For help "
    "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
)
MISSING_API_VERSION_MSG = "The request is missing the required 'api-version' query parameter."
UNKNOWN_API_VERSION_MSG = (
    "The specified version ({version}) is not recognized. Consider using the latest supported "
    "version ({latest})."
)
NOT_EMULATED_MSG = (
    "'{method} {path}' is not emulated: the arcwave emulator's Key Vault serves "
    "GET /secrets/{{name}} and GET /secrets/{{name}}/{{version}} only"
)


def _headers(request: web.Request) -> dict[str, str]:
    peer = request.remote or "127.0.0.1"
    return {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-keyvault-service-version": SERVICE_VERSION,
        "x-ms-keyvault-region": request.app[BACKEND].scenario.defaults.location,
        "x-ms-keyvault-network-info": f"conn_type=Ipv4;addr={peer};act_addr_fam=InterNetwork;",
        "Cache-Control": "no-cache",
    }


def _answer(
    request: web.Request, status: int, body: Any, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        charset="utf-8",
        headers={**_headers(request), **(headers or {})},
    )


def _error(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return _answer(request, status, {"error": {"code": code, "message": message}}, headers)


def challenge(tenant: str) -> str:
    """The ``WWW-Authenticate`` header of Key Vault's 401."""
    return CHALLENGE.format(authority=AUTHORITY.format(tenant=tenant), resource=VAULT_RESOURCE)


def bundle(request: web.Request, secret: Secret, version: SecretVersion) -> dict[str, Any]:
    """Key Vault's SecretBundle for one version."""
    return {
        "value": version.value,
        "id": f"{base_url(request)}/secrets/{secret.name}/{version.version}",
        "attributes": {
            "enabled": True,
            "created": version.created,
            "updated": version.created,
            "recoveryLevel": RECOVERY_LEVEL,
            "recoverableDays": RECOVERABLE_DAYS,
        },
        "tags": {},
    }


async def secrets_entry(request: web.Request) -> web.Response:
    """Every request under ``/secrets``: challenge, api-version, then the one operation."""
    backend = request.app[BACKEND]
    if not BEARER.match(request.headers.get("Authorization", "")):
        return _error(
            request,
            401,
            "Unauthorized",
            UNAUTHORIZED_MSG,
            {"WWW-Authenticate": challenge(backend.scenario.arm.tenant_id)},
        )
    api_version = request.query.get("api-version")
    if not api_version:
        return _error(request, 400, "BadParameter", MISSING_API_VERSION_MSG)
    if api_version not in API_VERSIONS:
        return _error(
            request,
            400,
            "BadParameter",
            UNKNOWN_API_VERSION_MSG.format(version=api_version, latest=LATEST_API_VERSION),
        )
    found = SECRET_PATH.match(request.path)
    if request.method != "GET" or found is None:
        return _error(
            request,
            501,
            "NotImplemented",
            NOT_EMULATED_MSG.format(method=request.method, path=request.path),
        )
    return get_secret(request, found["name"], found["version"] or None)


def get_secret(request: web.Request, name: str, version: str | None) -> web.Response:
    """``GET /secrets/{name}`` (latest) or ``/secrets/{name}/{version}``: the SecretBundle."""
    secret = request.app[BACKEND].vault.get(name)
    chosen = None
    if secret is not None:
        chosen = secret.latest if version is None else secret.version(version)
    if secret is None or chosen is None:
        shown = name if version is None else f"{name}/{version}"
        return _error(request, 404, "SecretNotFound", NOT_FOUND_MSG.format(name=shown))
    return _answer(request, 200, bundle(request, secret, chosen))
