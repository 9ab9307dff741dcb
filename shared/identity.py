"""Who calls the operator API, and what they may do (docs/security.md).

Two kinds of caller reach an operator route, both past the Functions host's function-key check:

- **A user or an application signed in with Microsoft Entra ID**, when App Service
  authentication is on. The platform validates the bearer token and hands its claims to the
  app in `X-MS-CLIENT-PRINCIPAL` (base64 JSON). It removes that header, and its `-NAME`, `-ID`
  and `-IDP` siblings, from whatever a caller sends, so they are trusted only when the platform
  says authentication is on (`WEBSITE_AUTH_ENABLED`, which App Service injects). The caller's
  roles are the token's app roles.
- **A function key alone** (automation): recorded under the key's name when
  `ARCWAVE_KEY_NAMES` lists its SHA-256, else as `function-key`. A key reads, operates and
  administers; it approves only when `ARCWAVE_KEYS_MAY_APPROVE` says so.

Every role includes reading. Nothing here trusts a header a caller can set: with App Service
authentication off, principal headers are ignored whatever they say.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
"""Entra's app roles arrive as `roles` claims, whatever `role_typ` says; both are read."""
NAME_CLAIMS = (
    "preferred_username",
    "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "name",
    "appid",
    "azp",
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "oid",
)
"""Where a caller's name is found, first first: a user's sign-in name, else (an application
with no user) its client id, else its object id."""
MAX_PRINCIPAL_BYTES = 64 * 1024


class Role(StrEnum):
    """The app roles of arcwave's Entra app registration (infra/app/auth.bicep)."""

    READER = "arcwave.Reader"
    OPERATOR = "arcwave.Operator"
    APPROVER = "arcwave.Approver"
    ADMIN = "arcwave.Admin"


KEY_ROLES = frozenset({Role.READER, Role.OPERATOR, Role.ADMIN})
"""What a function key may do, approving aside (`ARCWAVE_KEYS_MAY_APPROVE`)."""
FUNCTION_KEY = "function-key"
"""How a key no `ARCWAVE_KEY_NAMES` entry names is recorded."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: `name` as recorded (timeline, triggers, logs), how they came in, and
    their roles."""

    name: str
    kind: Literal["user", "key"]
    roles: frozenset[Role]

    def may(self, role: Role) -> bool:
        """Whether the caller holds `role` (any role includes reading)."""
        return role in self.roles or (role is Role.READER and bool(self.roles))

    def refusal(self, role: Role, action: str) -> str | None:
        """Why the caller may not `action`, naming the role it needs; None when it may."""
        if self.may(role):
            return None
        held = ", ".join(sorted(self.roles)) or "no arcwave role"
        if self.kind == "key" and role is Role.APPROVER:
            return (
                f"{action} needs the role {role.value}: a function key may not approve unless "
                "ARCWAVE_KEYS_MAY_APPROVE is true; sign in with Entra ID as an Approver"
            )
        return f"{action} needs the role {role.value}; {self.name} has {held}"


@dataclass(frozen=True)
class IdentitySettings:
    """What identifies a caller: whether App Service authentication is on (the platform's
    `WEBSITE_AUTH_ENABLED`), the named keys (name → SHA-256 hex) and whether keys approve."""

    app_service_auth: bool = False
    key_names: Mapping[str, str] | None = None
    keys_may_approve: bool = False


class Unidentified(Exception):
    """A principal the platform passed that cannot be read: answered 401."""


def identify(
    headers: Mapping[str, str], params: Mapping[str, str], settings: IdentitySettings
) -> Caller:
    """The caller of one request (its headers looked up case-insensitively by the caller)."""
    if settings.app_service_auth:
        encoded = headers.get(PRINCIPAL_HEADER)
        if encoded:
            return _user(encoded)
    return _key_caller(headers.get(KEY_HEADER) or params.get(KEY_QUERY) or "", settings)


def _user(encoded: str) -> Caller:
    claims = read_principal(encoded)
    name = next((claims[t][0] for t in NAME_CLAIMS if claims.get(t)), None)
    if not name:
        raise Unidentified("the signed-in principal has no name, client id or object id")
    roles = frozenset(
        Role(value) for typ in ROLE_CLAIMS for value in claims.get(typ, []) if value in _ROLES
    )
    return Caller(name=name[:200], kind="user", roles=roles)


_ROLES = {r.value for r in Role}


def read_principal(encoded: str) -> dict[str, list[str]]:
    """The claims of an `X-MS-CLIENT-PRINCIPAL` header by type, each type's values in order."""
    if len(encoded) > MAX_PRINCIPAL_BYTES:
        raise Unidentified("the signed-in principal is too large to read")
    try:
        decoded: Any = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError) as error:
        raise Unidentified(f"the signed-in principal cannot be read: {error}") from None
    entries = decoded.get("claims") if isinstance(decoded, dict) else None
    if not isinstance(entries, list):
        raise Unidentified("the signed-in principal carries no claims")
    claims: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("typ"), str):
            value = entry.get("val")
            if isinstance(value, str) and value:
                claims.setdefault(entry["typ"], []).append(value)
    return claims


def _key_caller(key: str, settings: IdentitySettings) -> Caller:
    roles = KEY_ROLES | ({Role.APPROVER} if settings.keys_may_approve else set())
    return Caller(name=key_name(key, settings.key_names or {}), kind="key", roles=roles)


def key_name(key: str, names: Mapping[str, str]) -> str:
    """The name `ARCWAVE_KEY_NAMES` gives `key` (compared by SHA-256, in constant time), else
    `function-key`."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    found = FUNCTION_KEY
    for name, expected in names.items():
        if hmac.compare_digest(digest, expected):
            found = f"key:{name}"
    return found


def parse_key_names(text: str) -> dict[str, str]:
    """`ARCWAVE_KEY_NAMES`: `name=sha256:<64 hex>` entries, comma-separated; ValueError naming
    the entry at fault."""
    names: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        name, _, digest = entry.partition("=")
        name, digest = name.strip(), digest.strip().lower().removeprefix("sha256:")
        if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(
                f"'{name[:40]}' is not a key name: use letters, digits, '-' and '_' (at most 64)"
            )
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(
                f"the entry for '{name}' needs the key's SHA-256 as sha256:<64 hex digits> "
                '(printf %s "$KEY" | sha256sum), never the key itself'
            )
        names[name] = digest
    return names
