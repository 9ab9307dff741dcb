"""App Service authentication ("Easy Auth", Entra ID): devhost keeps Azure's contract.

Off by default, headers untouched; on (`DEVHOST_EASY_AUTH=1`): WEBSITE_AUTH_ENABLED=True,
caller-set principal headers removed, a minted bearer token turned into Azure's principal
headers, an invalid one refused with 401 before anything runs, tokens minted with the master
key and still valid after a restart. The app (apps/easy_auth) echoes what it received.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
