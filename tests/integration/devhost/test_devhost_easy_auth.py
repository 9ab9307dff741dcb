"""App Service authentication ("Easy Auth", Entra ID): devhost keeps Azure's contract.

Off by default, headers untouched; on (`DEVHOST_EASY_AUTH=1`): WEBSITE_AUTH_ENABLED=True,
caller-set principal headers removed, a minted bearer token turned into Azure's principal
headers, an invalid one refused with 401 before anything runs, tokens minted with the master
key and still valid after a restart; browsers: the AppServiceAuthSession cookie, the local
sign-in form at /.auth/login/aad, /.auth/logout and /.auth/me. The app (apps/easy_auth) echoes
what it received.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import shutil
import socket
import stat
import time
import uuid
from collections.abc import Iterator, Sequence
from email.message import Message
from html.parser import HTMLParser
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from devhost.testing import DevHost
from tests.support import secret

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parent / "apps" / "easy_auth"
KEY_FILE = "easyauth-signing.key"
TOKEN_PATH = "/admin/devhost/token"
CHALLENGE = 'Bearer error="invalid_token"'
NAME_TYP = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_TYP = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OID_TYP = "http://schemas.microsoft.com/identity/claims/objectidentifier"
PRINCIPAL_HEADERS = (
    "x-ms-client-principal",
    "x-ms-client-principal-name",
    "x-ms-client-principal-id",
    "x-ms-client-principal-idp",
)
MASTER_KEY = "easy-auth-master-key-0123456789abcdef"


# helpers ---------------------------------------------------------------------------------------
def copy_app(target: Path) -> Path:
    app = target / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("__pycache__", ".devhost"))
    return app


def new_host(root: Path, *, easy_auth: bool) -> DevHost:
    """A devhost for the test app (a `with` block starts it)."""
    host = DevHost(
        copy_app(root),
        state_dir=root / "state",
        env={"DEVHOST_TEST_MARKS": str(root / "marks"), "DEVHOST_MASTER_KEY": MASTER_KEY},
        easy_auth=easy_auth,
        keep_out=("WEBSITE_AUTH_ENABLED",),
    )
    secret("devhost function key", host.function_key)
    secret("devhost master key", MASTER_KEY)
    return host


def send(
    host: DevHost,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> tuple[int, Message, bytes]:
    """One request with the header names sent exactly as given (urllib would recase them)."""
    where = urlsplit(host.base_url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def echo(
    host: DevHost, headers: Sequence[tuple[str, str]] = (), path: str = "/api/whoami"
) -> dict[str, Any]:
    status, _, body = send(host, "GET", path, headers)
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


def mint(host: DevHost, name: str, roles: Sequence[str], *, ttl_seconds: int = 3600) -> str:
    return secret(f"easy auth token for {name}", host.token(name, roles, ttl_seconds=ttl_seconds))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def payload_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def craft(key: bytes, payload: dict[str, Any]) -> str:
    """A token signed as the contract says: dh1.<b64url payload>.<b64url HMAC-SHA256>."""
    signed = "dh1." + b64url(json.dumps(payload).encode())
    signature = hmac.new(key, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{b64url(signature)}"


def marks(host: DevHost) -> list[str]:
    path = host.state_dir.parent / "marks"
    return path.read_text().split() if path.exists() else []


def principal_of(answer: dict[str, Any]) -> dict[str, Any]:
    value = answer["headers"]["x-ms-client-principal"]
    assert len(value) % 4 == 0, "standard base64 with padding"
    decoded: dict[str, Any] = json.loads(base64.b64decode(value, validate=True))
    return decoded


def expected_principal(name: str, oid: str, roles: Sequence[str]) -> dict[str, Any]:
    return {
        "auth_typ": "aad",
        "claims": [
            {"typ": "name", "val": name},
            {"typ": NAME_TYP, "val": name},
            {"typ": "preferred_username", "val": name},
            {"typ": OID_TYP, "val": oid},
            *({"typ": "roles", "val": role} for role in roles),
        ],
        "name_typ": NAME_TYP,
        "role_typ": ROLE_TYP,
    }


def assert_refused(status: int, headers: Message, body: bytes) -> None:
    assert status == 401
    assert headers["WWW-Authenticate"] == CHALLENGE
    assert body == b""


# fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevHost]:
    with new_host(tmp_path_factory.mktemp("easy-auth-on"), easy_auth=True) as host:
        yield host


@pytest.fixture(scope="module")
def off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevHost]:
    with new_host(tmp_path_factory.mktemp("easy-auth-off"), easy_auth=False) as host:
        yield host


# off -------------------------------------------------------------------------------------------
def test_off_leaves_the_environment_and_headers_alone(off: DevHost) -> None:
    """Without authentication the app sees no WEBSITE_AUTH_ENABLED and whatever headers the
    caller sent, principal headers and bearer tokens included."""
    answer = echo(
        off,
        [
            ("X-MS-CLIENT-PRINCIPAL", "Zm9yZ2Vk"),
            ("X-MS-CLIENT-PRINCIPAL-NAME", "mallory"),
            ("x-ms-token-aad-access-token", "forged"),
            ("Authorization", "Bearer not-a-devhost-token"),
        ],
    )
    assert answer["websiteAuthEnabled"] is None
    seen = answer["headers"]
    assert seen["x-ms-client-principal"] == "Zm9yZ2Vk"
    assert seen["x-ms-client-principal-name"] == "mallory"
    assert seen["x-ms-token-aad-access-token"] == "forged"
    assert seen["authorization"] == "Bearer not-a-devhost-token"


def test_off_has_no_token_endpoint(off: DevHost) -> None:
    """Minting answers 404 naming the setting, and no signing key is made."""
    status, body = off.request(
        "POST", TOKEN_PATH, {"name": "ada", "roles": []}, headers={"x-functions-key": MASTER_KEY}
    )
    assert status == 404
    assert "DEVHOST_EASY_AUTH=1" in body["error"]
    assert not (off.state_dir / KEY_FILE).exists()


# on: what the app sees -------------------------------------------------------------------------
def test_on_sets_website_auth_enabled(on: DevHost) -> None:
    assert echo(on)["websiteAuthEnabled"] == "True"


def test_caller_set_principal_headers_are_removed_in_any_case(on: DevHost) -> None:
    """App Service never lets a caller set X-MS-CLIENT-PRINCIPAL* or X-MS-TOKEN-* headers."""
    answer = echo(
        on,
        [
            ("X-MS-CLIENT-PRINCIPAL", "Zm9yZ2Vk"),
            ("x-ms-client-principal-name", "mallory"),
            ("X-Ms-Client-Principal-Id", "00000000-0000-0000-0000-000000000000"),
            ("X-MS-CLIENT-PRINCIPAL-IDP", "aad"),
            ("x-MS-client-PRINCIPAL-extra", "x"),
            ("X-MS-TOKEN-AAD-ACCESS-TOKEN", "forged"),
            ("x-ms-token-aad-id-token", "forged"),
            ("X-MS-Other", "kept"),
            ("X-Test", "kept"),
        ],
    )
    seen = answer["headers"]
    assert not [h for h in seen if h.startswith(("x-ms-client-principal", "x-ms-token-"))]
    assert seen["x-ms-other"] == "kept"
    assert seen["x-test"] == "kept"


def test_no_authorization_passes_unauthenticated(on: DevHost) -> None:
    """Allow unauthenticated requests: no bearer token (none, or another scheme) runs the
    function without a principal."""
    for headers in ([], [("Authorization", "Basic YWRhOnB3ZA==")]):
        seen = echo(on, [*headers, ("X-MS-CLIENT-PRINCIPAL-NAME", "mallory")])["headers"]
        assert not set(PRINCIPAL_HEADERS) & set(seen)


def test_minted_token_gives_the_entra_principal(on: DevHost) -> None:
    """The exact X-MS-CLIENT-PRINCIPAL JSON App Service makes for Entra ID, roles as `roles`
    claims, and the name, id and provider headers; a forged principal is replaced."""
    token = mint(on, "ada@contoso.com", ["Rollout.Approve", "Reader"])
    answer = echo(on, [bearer(token), ("X-MS-CLIENT-PRINCIPAL", "Zm9yZ2Vk")])
    seen = answer["headers"]
    oid = seen["x-ms-client-principal-id"]
    assert uuid.UUID(oid).version == 5
    assert principal_of(answer) == expected_principal(
        "ada@contoso.com", oid, ["Rollout.Approve", "Reader"]
    )
    assert seen["x-ms-client-principal-name"] == "ada@contoso.com"
    assert seen["x-ms-client-principal-idp"] == "aad"
    assert seen["authorization"] == f"Bearer {token}"  # App Service forwards it
    assert answer["websiteAuthEnabled"] == "True"

    # the same name gets the same oid; the scheme is case-insensitive
    again = mint(on, "ada@contoso.com", [])
    answer = echo(on, [("Authorization", f"bearer {again}")])
    assert answer["headers"]["x-ms-client-principal-id"] == oid
    assert principal_of(answer) == expected_principal("ada@contoso.com", oid, [])


def test_minted_token_with_an_oid_and_non_ascii_name(on: DevHost) -> None:
    status, body = on.request(
        "POST",
        TOKEN_PATH,
        {"name": "Zoë Müller", "roles": ["Admin"], "oid": "a-given-oid", "ttlSeconds": 600},
        headers={"x-functions-key": MASTER_KEY},
    )
    assert status == 200
    token = secret("easy auth token with oid", body["token"])
    assert payload_of(token)["oid"] == "a-given-oid"
    answer = echo(on, [bearer(token)])
    assert principal_of(answer) == expected_principal("Zoë Müller", "a-given-oid", ["Admin"])
    assert answer["headers"]["x-ms-client-principal-id"] == "a-given-oid"


def test_function_keys_are_independent_of_easy_auth(on: DevHost) -> None:
    """A valid token is no function key, and a key needs no token."""
    token = mint(on, "grace@contoso.com", ["Reader"])
    status, headers, _ = send(on, "GET", "/api/keyed", [bearer(token)])
    assert status == 401
    assert headers["WWW-Authenticate"] is None
    keyed = [("x-functions-key", on.function_key)]
    assert "x-ms-client-principal" in echo(on, [*keyed, bearer(token)], "/api/keyed")["headers"]
    assert "x-ms-client-principal" not in echo(on, keyed, "/api/keyed")["headers"]


# on: tokens refused ----------------------------------------------------------------------------
def invalid_tokens(on: DevHost) -> dict[str, str]:
    key = (on.state_dir / KEY_FILE).read_bytes()
    token = mint(on, "eve@contoso.com", ["Reader"])
    version, payload, signature = token.split(".")
    more_roles = {**payload_of(token), "roles": ["Reader", "Admin"]}
    expired = {**payload_of(token), "exp": int(time.time()) - 3600}
    other_key = bytes(b ^ 0xFF for b in key)
    return {
        "garbage": "garbage",
        "empty": "",
        "two parts": f"{version}.{payload}",
        "other version": f"dh2.{payload}.{signature}",
        "tampered payload": f"{version}.{b64url(json.dumps(more_roles).encode())}.{signature}",
        "tampered signature": f"{version}.{payload}.{signature[:-2]}AA",
        "other key": craft(other_key, payload_of(token)),
        "expired": craft(key, expired),
    }


KINDS = (
    "garbage",
    "empty",
    "two parts",
    "other version",
    "tampered payload",
    "tampered signature",
    "other key",
    "expired",
)


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_token_is_refused_before_the_function(on: DevHost, kind: str) -> None:
    token = invalid_tokens(on)[kind]
    probe = f"refused-{uuid.uuid4().hex}"
    assert_refused(*send(on, "GET", "/api/whoami", [bearer(token), ("x-probe", probe)]))
    assert probe not in marks(on)


def test_crafted_tokens_follow_the_contract(on: DevHost) -> None:
    """Signing with the key from the state folder makes a valid token (so `expired` above is
    refused for its exp alone); a 60 s token works and carries its expiry."""
    key = (on.state_dir / KEY_FILE).read_bytes()
    assert len(key) == 32
    assert stat.S_IMODE((on.state_dir / KEY_FILE).stat().st_mode) == 0o600
    crafted = craft(key, {"name": "x", "oid": "y", "roles": ["R"], "exp": 2**40})
    assert principal_of(echo(on, [bearer(crafted)])) == expected_principal("x", "y", ["R"])

    status, body = on.request(
        "POST",
        TOKEN_PATH,
        {"name": "short@contoso.com", "roles": ["R"], "ttlSeconds": 60},
        headers={"x-functions-key": MASTER_KEY},
    )
    assert status == 200
    short = secret("short-lived easy auth token", body["token"])
    exp = payload_of(short)["exp"]
    assert body["expiresOn"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
    assert echo(on, [bearer(short)])["headers"]["x-ms-client-principal-name"] == (
        "short@contoso.com"
    )
    expired = craft(key, {**payload_of(short), "exp": exp - 3600})
    assert_refused(*send(on, "GET", "/api/whoami", [bearer(expired)]))


def test_more_than_one_bearer_token_is_refused(on: DevHost) -> None:
    token = mint(on, "two@contoso.com", [])
    assert_refused(*send(on, "GET", "/api/whoami", [bearer(token), bearer(token)]))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/host/status"),
        ("GET", f"/admin/functions?code={MASTER_KEY}"),
        ("POST", TOKEN_PATH),
        ("GET", "/runtime/webhooks/durabletask/instances/x?code={key}"),
        ("GET", "/api/nowhere"),
    ],
)
def test_invalid_token_is_refused_on_every_route(on: DevHost, method: str, path: str) -> None:
    path = path.format(key=on.function_key)
    headers = [bearer("garbage"), ("x-functions-key", MASTER_KEY)]
    assert_refused(*send(on, method, path, headers, b"{}" if method == "POST" else None))


def test_invalid_token_is_refused_on_the_event_grid_webhook(on: DevHost) -> None:
    event_id = f"event-{uuid.uuid4().hex}"
    event = [
        {
            "id": event_id,
            "eventType": "Test.Event",
            "subject": "s",
            "eventTime": "2026-01-01T00:00:00Z",
            "data": {},
            "dataVersion": "1",
        }
    ]
    path = "/runtime/webhooks/eventgrid?functionName=on_event"
    body = json.dumps(event).encode()
    content = ("Content-Type", "application/json")
    assert_refused(*send(on, "POST", path, [content, bearer("garbage")], body))
    assert event_id not in marks(on)
    assert send(on, "POST", path, [content], body)[0] == 202
    assert event_id in marks(on)


# on: minting -----------------------------------------------------------------------------------
def test_minting_takes_the_master_key(on: DevHost) -> None:
    body = {"name": "ada", "roles": []}
    assert on.request("POST", TOKEN_PATH, body)[0] == 401
    assert on.request("POST", TOKEN_PATH, body, headers={"x-functions-key": "wrong-key"})[0] == 401
    function_key = {"x-functions-key": on.function_key}
    assert on.request("POST", TOKEN_PATH, body, headers=function_key)[0] == 401
    assert on.request("POST", f"{TOKEN_PATH}?code={MASTER_KEY}", body)[0] == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b'["name"]', "body"),
        (b"{}", "name"),
        (b'{"roles": []}', "name"),
        (b'{"name": "", "roles": []}', "name"),
        (json.dumps({"name": "n" * 201, "roles": []}).encode(), "name"),
        (b'{"name": 7, "roles": []}', "name"),
        (b'{"name": "a\\nb", "roles": []}', "name"),
        (b'{"name": "ada"}', "roles"),
        (b'{"name": "ada", "roles": "Admin"}', "roles"),
        (json.dumps({"name": "ada", "roles": ["r"] * 21}).encode(), "roles"),
        (b'{"name": "ada", "roles": [""]}', "roles"),
        (b'{"name": "ada", "roles": [3]}', "roles"),
        (json.dumps({"name": "ada", "roles": ["r" * 101]}).encode(), "roles"),
        (b'{"name": "ada", "roles": [], "oid": ""}', "oid"),
        (b'{"name": "ada", "roles": [], "oid": 5}', "oid"),
        (b'{"name": "ada", "roles": [], "ttlSeconds": 59}', "ttlSeconds"),
        (b'{"name": "ada", "roles": [], "ttlSeconds": 86401}', "ttlSeconds"),
        (b'{"name": "ada", "roles": [], "ttlSeconds": "600"}', "ttlSeconds"),
        (b'{"name": "ada", "roles": [], "ttlSeconds": 600.5}', "ttlSeconds"),
        (b'{"name": "ada", "roles": [], "ttlSeconds": true}', "ttlSeconds"),
        (b'{"name": "ada", "roles": [], "ttl": 600}', "ttl"),
    ],
)
def test_minting_with_a_bad_body_answers_400_naming_the_field(
    on: DevHost, body: bytes, field: str
) -> None:
    status, answer = on.request(
        "POST",
        TOKEN_PATH,
        raw=body,
        headers={"x-functions-key": MASTER_KEY, "Content-Type": "application/json"},
    )
    assert status == 400
    assert answer["field"] == field
    assert field in answer["error"]


def test_minting_accepts_the_limits(on: DevHost) -> None:
    for body in (
        {"name": "n" * 200, "roles": ["r" * 100] * 20, "ttlSeconds": 86400},
        {"name": "a", "roles": [], "ttlSeconds": 60, "oid": None},
    ):
        status, answer = on.request(
            "POST", TOKEN_PATH, body, headers={"x-functions-key": MASTER_KEY}
        )
        assert status == 200, answer
        secret("easy auth token at the limits", answer["token"])
        assert payload_of(answer["token"])["roles"] == body["roles"]


# restart ---------------------------------------------------------------------------------------
def test_token_survives_a_restart(tmp_path: Path) -> None:
    """The signing key stays in the state folder: a token minted before a restart still works,
    and the key shows in no output."""
    with new_host(tmp_path, easy_auth=True) as host:
        token = mint(host, "ada@contoso.com", ["Reader"])
        before = echo(host, [bearer(token)])
        key = (host.state_dir / KEY_FILE).read_bytes()
        host.stop()
        host.start()
        after = echo(host, [bearer(token)])
        assert principal_of(after) == principal_of(before)
        assert (host.state_dir / KEY_FILE).read_bytes() == key
        printed = host.output(since_start=False)
        for form in (key.hex(), b64url(key), base64.b64encode(key).decode()):
            assert form not in printed
        assert token not in printed


def test_a_header_that_is_not_utf8_survives_the_principal(on: DevHost) -> None:
    """Header bytes that are not UTF-8 (HTTP's obs-text) reach the app as ISO-8859-1 text when
    devhost rewrites the headers, instead of failing the request."""
    token = mint(on, "latin@contoso.com", [])
    where = urlsplit(on.base_url)
    with socket.create_connection((where.hostname or "127.0.0.1", where.port or 80), 30) as conn:
        conn.sendall(
            b"GET /api/whoami HTTP/1.1\r\nHost: devhost\r\nX-Odd: caf\xe9\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    seen = json.loads(body)["headers"]
    assert seen["x-odd"] == "café"
    assert seen["x-ms-client-principal-name"] == "latin@contoso.com"


# browsers: the session cookie and /.auth/* -----------------------------------------------------
SESSION = "AppServiceAuthSession"
LOGIN = "/.auth/login/aad"
ROLES = ("arcwave.Reader", "arcwave.Operator", "arcwave.Approver", "arcwave.Admin")
FORM = ("Content-Type", "application/x-www-form-urlencoded")


def cookie(token: str) -> tuple[str, str]:
    return ("Cookie", f"theme=dark; {SESSION}={token}")


def set_cookies(headers: Message) -> dict[str, Morsel[str]]:
    """The cookies a response sets, by name (each Set-Cookie header parsed on its own)."""
    found: dict[str, Morsel[str]] = {}
    for value in headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie()
        jar.load(value)
        found.update(jar)
    return found


def sign_in(
    host: DevHost,
    fields: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]] = (),
) -> tuple[int, Message, bytes]:
    return send(host, "POST", LOGIN, [FORM, *headers], urlencode(fields).encode())


def session_of(host: DevHost, name: str, roles: Sequence[str], redirect: str = "/") -> str:
    """Sign in through the form; returns the session cookie's token."""
    fields = [("name", name), *(("roles", r) for r in roles), ("post_login_redirect_uri", redirect)]
    status, headers, body = sign_in(host, fields)
    assert status == 302, body
    return secret(f"session token for {name}", set_cookies(headers)[SESSION].value)


class FormParser(HTMLParser):
    """The tags of a page, for the form's accessibility checks."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.label_depth = 0
        self.wrapped: list[dict[str, str | None]] = []  # inputs inside a <label>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "label":
            self.label_depth += 1
        elif tag == "input" and self.label_depth:
            self.wrapped.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def parse(page: bytes) -> FormParser:
    parser = FormParser()
    parser.feed(page.decode("utf-8"))
    return parser


def test_session_cookie_gives_the_principal(on: DevHost) -> None:
    """A signed-in browser's cookie gives the function the same principal as a bearer token;
    forged principal headers are still replaced, and the cookie reaches the app."""
    session = on.session_cookie("ada@contoso.com", ["arcwave.Operator"])
    assert set(session) == {"name", "value", "path"}
    assert (session["name"], session["path"]) == (SESSION, "/")
    token = secret("session cookie token", session["value"])
    answer = echo(on, [cookie(token), ("X-MS-CLIENT-PRINCIPAL-NAME", "mallory")])
    seen = answer["headers"]
    oid = seen["x-ms-client-principal-id"]
    assert principal_of(answer) == expected_principal("ada@contoso.com", oid, ["arcwave.Operator"])
    assert seen["x-ms-client-principal-name"] == "ada@contoso.com"
    assert seen["x-ms-client-principal-idp"] == "aad"
    assert f"{SESSION}={token}" in seen["cookie"]
    # an 8-hour session by default
    assert 8 * 3600 - 600 < payload_of(token)["exp"] - time.time() <= 8 * 3600 + 60


def test_a_bearer_token_wins_over_the_session_cookie(on: DevHost) -> None:
    session = mint(on, "browser@contoso.com", ["arcwave.Reader"])
    token = mint(on, "api@contoso.com", ["arcwave.Admin"])
    seen = echo(on, [cookie(session), bearer(token)])["headers"]
    assert seen["x-ms-client-principal-name"] == "api@contoso.com"
    # another scheme is no bearer token: the cookie counts
    seen = echo(on, [cookie(session), ("Authorization", "Basic YWRhOnB3ZA==")])["headers"]
    assert seen["x-ms-client-principal-name"] == "browser@contoso.com"


@pytest.mark.parametrize("kind", KINDS)
def test_a_stale_session_cookie_passes_unauthenticated(on: DevHost, kind: str) -> None:
    """An invalid or expired cookie is no 401: the browser is just not signed in (so it can
    reach the sign-in), and the cookie is left alone."""
    token = invalid_tokens(on)[kind]
    probe = f"stale-{uuid.uuid4().hex}"
    status, headers, body = send(on, "GET", "/api/whoami", [cookie(token), ("x-probe", probe)])
    assert status == 200
    assert not set(PRINCIPAL_HEADERS) & set(json.loads(body)["headers"])
    assert probe in marks(on)
    assert headers.get_all("Set-Cookie") is None


def test_login_form_renders_an_accessible_page(on: DevHost) -> None:
    status, headers, page = send(on, "GET", f"{LOGIN}?post_login_redirect_uri=/dash%3Fa%3D1")
    assert status == 200
    assert headers.get_content_type() == "text/html"
    assert headers.get_content_charset() == "utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    text = page.decode("utf-8")
    assert "Entra ID" in text and "devhost" in text
    parsed = parse(page)
    assert ("html", {"lang": "en"}) in parsed.tags
    form = next(attrs for tag, attrs in parsed.tags if tag == "form")
    assert (form["method"], form["action"]) == ("post", LOGIN)
    inputs = [attrs for tag, attrs in parsed.tags if tag == "input"]
    hidden = [i for i in inputs if i.get("type") == "hidden"]
    assert hidden == [{"type": "hidden", "name": "post_login_redirect_uri", "value": "/dash?a=1"}]
    boxes = [i for i in inputs if i.get("type") == "checkbox"]
    assert [(b["name"], b["value"]) for b in boxes] == [("roles", r) for r in ROLES]
    # every visible field has a label: a <label for=id> or a <label> around it
    labelled = {attrs.get("for") for tag, attrs in parsed.tags if tag == "label"}
    for field in (i for i in inputs if i.get("type") != "hidden"):
        assert field.get("id") in labelled or field in parsed.wrapped, field
    name = next(i for i in inputs if i.get("name") == "name")
    assert name["id"] in labelled
    assert any(tag == "legend" for tag, _ in parsed.tags)
    # nothing loaded from elsewhere
    for _, attrs in parsed.tags:
        assert not {"src", "href"} & set(attrs), attrs


@pytest.mark.parametrize(
    "redirect", ["//evil.example", "https://evil.example", "javascript:alert(1)", "/\\evil", "x"]
)
def test_login_form_keeps_only_a_safe_redirect(on: DevHost, redirect: str) -> None:
    _, _, page = send(on, "GET", f"{LOGIN}?{urlencode({'post_login_redirect_uri': redirect})}")
    hidden = [a for t, a in parse(page).tags if t == "input" and a.get("type") == "hidden"]
    assert hidden[0]["value"] == "/"


def test_login_sets_the_session_cookie_and_redirects(on: DevHost) -> None:
    """Both `roles` and `roles[]` are read; the cookie is HttpOnly, SameSite=Lax, Path=/, not
    Secure over http; its token gives the chosen principal."""
    status, headers, body = sign_in(
        on,
        [
            ("name", "Zoë Müller"),
            ("roles", "arcwave.Reader"),
            ("roles[]", "arcwave.Approver"),
            ("roles", "arcwave.Reader"),
            ("post_login_redirect_uri", "/dashboard/rollouts?tab=open#top"),
        ],
    )
    assert status == 302, body
    assert headers["Location"] == "/dashboard/rollouts?tab=open#top"
    assert headers["Cache-Control"] == "no-store"
    morsel = set_cookies(headers)[SESSION]
    token = secret("session token from the form", morsel.value)
    assert morsel["path"] == "/"
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert not morsel["secure"]
    assert not morsel["max-age"] and not morsel["expires"]  # a browser-session cookie
    assert payload_of(token)["roles"] == ["arcwave.Reader", "arcwave.Approver"]
    answer = echo(on, [cookie(token)])
    oid = answer["headers"]["x-ms-client-principal-id"]
    assert principal_of(answer) == expected_principal(
        "Zoë Müller", oid, ["arcwave.Reader", "arcwave.Approver"]
    )
    # no roles is a valid choice
    assert payload_of(session_of(on, "nobody@contoso.com", []))["roles"] == []


@pytest.mark.parametrize(
    "redirect",
    [
        "//evil.example/path",
        "https://evil.example/",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "/\\evil.example",
        "/\t/evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "evil.example",
        "",
        None,
    ],
)
def test_login_redirects_only_to_a_path_on_this_site(on: DevHost, redirect: str | None) -> None:
    fields = [("name", "ada@contoso.com")]
    if redirect is not None:
        fields.append(("post_login_redirect_uri", redirect))
    status, headers, _ = sign_in(on, fields)
    assert status == 302
    assert headers["Location"] == "/"
    assert headers.get_all("Set-Cookie") is not None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ([], "name"),
        ([("name", "")], "name"),
        ([("name", "a\nb")], "name"),
        ([("name", "n" * 201)], "name"),
        ([("name", "ada"), ("roles", "")], "roles"),
        ([("name", "ada"), ("roles", "r" * 101)], "roles"),
        ([("name", "ada"), *[("roles", f"r{i}") for i in range(21)]], "roles"),
    ],
)
def test_login_with_a_bad_field_shows_the_form_again(
    on: DevHost, fields: list[tuple[str, str]], problem: str
) -> None:
    status, headers, page = sign_in(on, [*fields, ("post_login_redirect_uri", "/back")])
    assert status == 400
    assert headers.get_content_type() == "text/html"
    assert headers.get_all("Set-Cookie") is None
    parsed = parse(page)
    alert = [a for t, a in parsed.tags if a.get("role") == "alert"]
    assert alert, page
    assert problem in page.decode("utf-8").split('role="alert"', 1)[1].split("</p>", 1)[0]
    hidden = [a for t, a in parsed.tags if t == "input" and a.get("type") == "hidden"]
    assert hidden[0]["value"] == "/back"


def test_login_posted_from_another_site_is_refused(on: DevHost) -> None:
    """A browser names the page a form was posted from: another site cannot sign it in."""
    fields = [("name", "mallory@evil.example"), ("roles", "arcwave.Admin")]
    for origin in ("https://evil.example", "null"):
        status, headers, _ = sign_in(on, fields, [("Origin", origin)])
        assert status == 403
        assert headers.get_all("Set-Cookie") is None
    status, headers, _ = sign_in(on, fields, [("Origin", on.base_url)])
    assert status == 302
    assert SESSION in set_cookies(headers)


def test_logout_clears_the_session_cookie(on: DevHost) -> None:
    for query, location in [
        ("?post_logout_redirect_uri=/bye", "/bye"),
        ("?post_logout_redirect_uri=//evil.example", "/"),
        ("?post_logout_redirect_uri=https://evil.example", "/"),
        ("?post_logout_redirect_uri=javascript:alert(1)", "/"),
        ("", "/"),
    ]:
        token = session_of(on, "ada@contoso.com", ["arcwave.Reader"])
        status, headers, _ = send(on, "GET", f"/.auth/logout{query}", [cookie(token)])
        assert status == 302
        assert headers["Location"] == location
        morsel = set_cookies(headers)[SESSION]
        assert morsel.value == ""
        assert morsel["max-age"] == "0"
        assert morsel["path"] == "/"
        assert morsel["httponly"] is True


def test_me_describes_the_signed_in_user(on: DevHost) -> None:
    token = session_of(on, "ada@contoso.com", ["arcwave.Operator", "arcwave.Admin"])
    status, headers, body = send(on, "GET", "/.auth/me", [cookie(token)])
    assert status == 200
    assert headers.get_content_type() == "application/json"
    assert headers["Cache-Control"] == "no-store"
    answer = json.loads(body)
    principal = principal_of(echo(on, [cookie(token)]))
    exp = payload_of(token)["exp"]
    assert answer == [
        {
            "provider_name": "aad",
            "user_id": "ada@contoso.com",
            "user_claims": principal["claims"],
            "access_token": "",
            "expires_on": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp)),
            "id_token": "",
        }
    ]
    # a bearer token works as well
    api = mint(on, "api@contoso.com", ["arcwave.Reader"])
    status, _, body = send(on, "GET", "/.auth/me", [bearer(api)])
    assert status == 200
    assert json.loads(body)[0]["user_id"] == "api@contoso.com"
    assert {"typ": "roles", "val": "arcwave.Reader"} in json.loads(body)[0]["user_claims"]


def test_me_without_a_session_answers_401(on: DevHost) -> None:
    assert send(on, "GET", "/.auth/me")[0] == 401
    assert send(on, "GET", "/.auth/me", [cookie("garbage")])[0] == 401
    assert send(on, "GET", "/.auth/me", [cookie(invalid_tokens(on)["expired"])])[0] == 401
    assert_refused(*send(on, "GET", "/.auth/me", [bearer("garbage")]))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{LOGIN}?post_login_redirect_uri=/x"),
        ("POST", LOGIN),
        ("GET", "/.auth/logout"),
        ("GET", "/.auth/me"),
    ],
)
def test_off_has_no_auth_endpoints(off: DevHost, method: str, path: str) -> None:
    body = urlencode({"name": "ada"}).encode() if method == "POST" else None
    status, headers, answer = send(off, method, path, [FORM], body)
    assert status == 404
    assert "DEVHOST_EASY_AUTH=1" in json.loads(answer)["error"]
    assert headers.get_all("Set-Cookie") is None


def test_off_ignores_the_session_cookie(off: DevHost) -> None:
    seen = echo(off, [cookie("dh1.e30.c2ln")])["headers"]
    assert not set(PRINCIPAL_HEADERS) & set(seen)
    assert f"{SESSION}=dh1.e30.c2ln" in seen["cookie"]
