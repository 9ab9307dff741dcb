"""App Service authentication ("Easy Auth") with Microsoft Entra ID, as Azure runs it in front of
a function app, switched on by `DEVHOST_EASY_AUTH=1`.

What the app sees is Azure's contract: `WEBSITE_AUTH_ENABLED=True` in its environment; on every
request the `X-MS-CLIENT-PRINCIPAL*` and `X-MS-TOKEN-*` headers a caller sent are removed; a
valid `Authorization: Bearer <token>` adds the principal headers App Service adds for Entra ID;
an invalid one is answered 401 before anything runs; a request without a bearer token passes
unauthenticated ("allow unauthenticated requests").

Browsers: without a bearer token, a valid token in the `AppServiceAuthSession` cookie gives the
same principal; an invalid or expired one is ignored (the browser is simply not signed in).
`/.auth/login/aad` (in `devhost.signin`) is devhost's stand-in for the Entra sign-in (a form to
pick a name and roles, no master key: anyone on the machine may sign in as anyone, which is the
point locally), `/.auth/logout` clears the cookie and `/.auth/me` describes the signed-in user.

Tokens are devhost's own, not Entra JWTs: `dh1.<b64url(JSON payload)>.<b64url(HMAC-SHA256)>`,
minted by `POST /admin/devhost/token` (master key) and signed with a key kept in the state
folder (`easyauth-signing.key`, mode 0600), so they survive a restart. The key is never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from devhost.auth import authorized
from devhost.config import ConfigError, HostConfig
from devhost.state import CONFIG

log = logging.getLogger("devhost.easyauth")

ENV_SETTING = "DEVHOST_EASY_AUTH"
KEY_FILE = "easyauth-signing.key"
KEY_BYTES = 32
TOKEN_VERSION = "dh1"
TOKEN_PATH = "/admin/devhost/token"
LOGIN_PATH = "/.auth/login/aad"
LOGOUT_PATH = "/.auth/logout"
ME_PATH = "/.auth/me"
#: The cookie App Service keeps a signed-in browser's session in; here it holds a devhost token.
SESSION_COOKIE = "AppServiceAuthSession"
SESSION_TTL = 8 * 3600
#: The roles the sign-in form offers (arcwave's app roles); a form post may name others.
LOGIN_ROLES = ("arcwave.Reader", "arcwave.Operator", "arcwave.Approver", "arcwave.Admin")
MAX_REDIRECT = 2048

NAME_TYP = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_TYP = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OID_TYP = "http://schemas.microsoft.com/identity/claims/objectidentifier"

PRINCIPAL = "X-MS-CLIENT-PRINCIPAL"
PRINCIPAL_NAME = "X-MS-CLIENT-PRINCIPAL-NAME"
PRINCIPAL_ID = "X-MS-CLIENT-PRINCIPAL-ID"
PRINCIPAL_IDP = "X-MS-CLIENT-PRINCIPAL-IDP"
#: Request headers only App Service may set: removed from every request a caller sends.
RESERVED_PREFIXES = ("x-ms-client-principal", "x-ms-token-")
CHALLENGE = 'Bearer error="invalid_token"'

MIN_TTL, MAX_TTL, DEFAULT_TTL = 60, 86_400, 3_600
MAX_NAME, MAX_ROLES, MAX_ROLE, MAX_OID = 200, 20, 100, 100
#: `oid` of a minted token without one: uuid5(OID_NAMESPACE, name), the same for the same name.
OID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "devhost:easy-auth:user")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class InvalidToken(Exception):
    """A bearer token devhost does not accept; `reason` is safe to log (no token text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FieldError(ValueError):
    """A token request body with a bad field; answered 400 naming it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who a valid token says the caller is."""

    name: str
    oid: str
    roles: tuple[str, ...]
    exp: int


# Encoding ------------------------------------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def default_oid(name: str) -> str:
    return str(uuid.uuid5(OID_NAMESPACE, name))


def expires_on(exp: int) -> str:
    """`exp` (Unix seconds) as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(exp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The signing key -----------------------------------------------------------------------------
def load_signing_key(state_dir: Path) -> bytes:
    """The key in `STATE/easyauth-signing.key`, made (32 random bytes, mode 0600) if missing.

    One devhost owns a state folder at a time (the store's lock), so creating it cannot race.
    """
    path = state_dir / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(KEY_BYTES)
        _write_private(path, key)
        return key
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"{path} is not a devhost signing key ({len(key)} bytes, expected {KEY_BYTES}); "
            "delete it and start again to make a new one (tokens minted before stop working)"
        )
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return key


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by the owner only from the first byte."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# Tokens --------------------------------------------------------------------------------------
class EasyAuth:
    """Mints and checks devhost's bearer tokens with one signing key."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = clock

    def __repr__(self) -> str:  # never show the key
        return "EasyAuth(<key hidden>)"

    def _sign(self, signed: str) -> str:
        return _b64url(hmac.new(self._key, signed.encode("ascii"), hashlib.sha256).digest())

    def mint(
        self, name: str, roles: Sequence[str], *, oid: str | None = None, ttl: int = DEFAULT_TTL
    ) -> tuple[str, int]:
        """A token for `name` with `roles`, valid for `ttl` seconds; returns (token, exp)."""
        exp = int(self._clock()) + ttl
        payload = {"name": name, "oid": oid or default_oid(name), "roles": list(roles), "exp": exp}
        body = _b64url(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        signed = f"{TOKEN_VERSION}.{body}"
        return f"{signed}.{self._sign(signed)}", exp

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; InvalidToken when malformed, badly signed or expired."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION or not parts[1].isascii():
            raise InvalidToken("malformed token")
        expected = self._sign(f"{parts[0]}.{parts[1]}")
        if not hmac.compare_digest(expected.encode("ascii"), parts[2].encode("utf-8", "replace")):
            raise InvalidToken("bad signature")
        try:
            payload = json.loads(_unb64url(parts[1]))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidToken("malformed payload") from None
        principal = _principal(payload)
        if principal.exp <= self._clock():
            raise InvalidToken("expired token")
        return principal


def _principal(payload: Any) -> Principal:
    if not isinstance(payload, dict):
        raise InvalidToken("malformed payload")
    name, oid, roles, exp = (payload.get(k) for k in ("name", "oid", "roles", "exp"))
    if (
        not isinstance(name, str)
        or not isinstance(oid, str)
        or not isinstance(roles, list)
        or not all(isinstance(r, str) for r in roles)
        or isinstance(exp, bool)
        or not isinstance(exp, int)
    ):
        raise InvalidToken("malformed payload")
    return Principal(name, oid, tuple(roles), exp)


# What App Service adds -----------------------------------------------------------------------
def client_principal(principal: Principal) -> dict[str, Any]:
    """The JSON App Service base64-encodes into `X-MS-CLIENT-PRINCIPAL` for Entra ID.

    Entra's app roles arrive as claims of type `roles`, not `role_typ`, as they do in Azure.
    """
    claims = [
        {"typ": "name", "val": principal.name},
        {"typ": NAME_TYP, "val": principal.name},
        {"typ": "preferred_username", "val": principal.name},
        {"typ": OID_TYP, "val": principal.oid},
        *({"typ": "roles", "val": role} for role in principal.roles),
    ]
    return {"auth_typ": "aad", "claims": claims, "name_typ": NAME_TYP, "role_typ": ROLE_TYP}


def principal_headers(principal: Principal) -> dict[str, str]:
    encoded = base64.b64encode(json.dumps(client_principal(principal)).encode("utf-8"))
    return {
        PRINCIPAL: encoded.decode("ascii"),
        PRINCIPAL_NAME: principal.name,
        PRINCIPAL_ID: principal.oid,
        PRINCIPAL_IDP: "aad",
    }


def bearer_token(request: web.Request) -> str | None:
    """The token of `Authorization: Bearer <token>`; None without one (another scheme or none).

    InvalidToken for an empty token or more than one bearer token."""
    tokens = []
    for value in request.headers.getall("Authorization", []):
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() == "bearer":
            tokens.append(rest.strip())
    if not tokens:
        return None
    if len(tokens) > 1:
        raise InvalidToken("more than one bearer token")
    if not tokens[0]:
        raise InvalidToken("empty bearer token")
    return tokens[0]


def _header_value(value: str) -> str:
    """A header value as a str that encodes to UTF-8: bytes that were not UTF-8 (aiohttp keeps
    them as surrogates) are read as ISO-8859-1, HTTP's obs-text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("latin-1")
    return value


def session_principal(request: web.Request, auth: EasyAuth) -> Principal | None:
    """Who the `AppServiceAuthSession` cookie says the browser is; None without a valid one (a
    stale cookie is not an error: the browser is just not signed in)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return auth.verify(token)
    except InvalidToken as exc:
        log.debug("easy auth: session cookie ignored on %s: %s", request.path, exc.reason)
        return None


def signed_in(request: web.Request, auth: EasyAuth) -> Principal | None:
    """The caller's principal: from the bearer token if there is one (InvalidToken when it is
    not valid), else from the session cookie; None when not signed in."""
    token = bearer_token(request)
    if token is not None:
        return auth.verify(token)
    return session_principal(request, auth)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Runs first on every request while Easy Auth is on (see the module docstring)."""
    headers: CIMultiDict[str] = CIMultiDict()
    stripped = False
    for name, value in request.headers.items():
        if name.lower().startswith(RESERVED_PREFIXES):
            stripped = True
        else:
            headers.add(name, value)
    try:
        principal = signed_in(request, request.app[EASY_AUTH])
    except InvalidToken as exc:
        log.info("easy auth: %s %s answered 401: %s", request.method, request.path, exc.reason)
        return web.Response(status=401, headers={"WWW-Authenticate": CHALLENGE})
    if principal is None and not stripped:
        return await handler(request)
    if principal is not None:
        headers.update(principal_headers(principal))
    clean = CIMultiDict((name, _header_value(value)) for name, value in headers.items())
    return await handler(request.clone(headers=clean))


# Minting -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenRequest:
    name: str
    roles: tuple[str, ...]
    oid: str | None
    ttl: int


def text_field(value: Any, field: str, longest: int) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= longest
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        raise FieldError(
            field,
            f"{field} must be a string of 1 to {longest} characters without control characters",
        )
    return value


def parse_token_request(body: Any) -> TokenRequest:
    """The body of `POST /admin/devhost/token`; FieldError names the first bad field."""
    if not isinstance(body, dict):
        raise FieldError("body", "the body must be a JSON object with name and roles")
    known = ("name", "roles", "oid", "ttlSeconds")
    for key in body:
        if key not in known:
            raise FieldError(key, f"unknown field {key!r}; the fields are {', '.join(known)}")
    name = text_field(body.get("name"), "name", MAX_NAME)
    roles = body.get("roles")
    if not isinstance(roles, list) or len(roles) > MAX_ROLES:
        raise FieldError("roles", f"roles must be an array of at most {MAX_ROLES} strings")
    checked = tuple(text_field(role, f"roles[{i}]", MAX_ROLE) for i, role in enumerate(roles))
    oid = body.get("oid")
    if oid is not None:
        oid = text_field(oid, "oid", MAX_OID)
    ttl = body.get("ttlSeconds", DEFAULT_TTL)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        raise FieldError("ttlSeconds", f"ttlSeconds must be an integer from {MIN_TTL} to {MAX_TTL}")
    return TokenRequest(name, checked, oid, ttl)


def _bad_request(error: FieldError) -> web.Response:
    # roles[3] is reported as field "roles", its message says which item
    field = error.field.split("[", 1)[0]
    return web.json_response({"error": error.message, "field": field}, status=400)


async def mint_token(request: web.Request) -> web.StreamResponse:
    """POST /admin/devhost/token (master key): 200 {"token", "expiresOn"}."""
    config = request.app[CONFIG]
    auth = request.app.get(EASY_AUTH)
    if not config.easy_auth or auth is None:
        return web.json_response(
            {
                "error": "App Service authentication is off: set DEVHOST_EASY_AUTH=1 (and "
                "restart devhost) to mint tokens"
            },
            status=404,
        )
    if not authorized(request, "ADMIN", config):
        return web.Response(status=401)
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _bad_request(FieldError("body", "the body is not JSON; send a JSON object"))
    try:
        wanted = parse_token_request(body)
    except FieldError as exc:
        return _bad_request(exc)
    token, exp = auth.mint(wanted.name, wanted.roles, oid=wanted.oid, ttl=wanted.ttl)
    return web.json_response(
        {"token": token, "expiresOn": expires_on(exp)}, headers={"Cache-Control": "no-store"}
    )


# Wiring --------------------------------------------------------------------------------------
EASY_AUTH = web.AppKey("easy_auth", EasyAuth)


def apply_environment(config: HostConfig) -> None:
    """What App Service puts in the app's environment; call before the app is imported."""
    if config.easy_auth:
        os.environ["WEBSITE_AUTH_ENABLED"] = "True"


def middlewares(config: HostConfig) -> list[Any]:
    """The middleware to build the application with: none while Easy Auth is off."""
    return [middleware] if config.easy_auth else []


def setup(app: web.Application, config: HostConfig) -> None:
    """Load the signing key (when on) and add the token route (always: 404 while off); the
    browser's /.auth routes are `devhost.signin`'s."""
    if config.easy_auth:
        app[EASY_AUTH] = EasyAuth(load_signing_key(config.state_dir))
    app.router.add_post(TOKEN_PATH, mint_token)
