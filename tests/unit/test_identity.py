"""Who a caller is (shared/identity.py): the platform's principal only when App Service
authentication is on, roles from the token's app roles, keys by name, and refusals that name
the role an operation needs."""

import base64
import hashlib
import json

import pytest

from shared.identity import (
    FUNCTION_KEY,
    IdentitySettings,
    Role,
    Unidentified,
    identify,
    key_name,
    parse_key_names,
    read_principal,
)
from tests.support import secret

KEY = secret("operator API key", "pipeline-key-0123456789abcdef")
DIGEST = hashlib.sha256(KEY.encode()).hexdigest()
ON = IdentitySettings(app_service_auth=True, key_names={"pipeline": DIGEST})
OFF = IdentitySettings(app_service_auth=False, key_names={"pipeline": DIGEST})


def principal(*roles: str, name: str = "ada@contoso.com", **extra: str) -> str:
    """An `X-MS-CLIENT-PRINCIPAL` as App Service builds it for an Entra token."""
    claims = [
        {"typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "val": name},
        {"typ": "preferred_username", "val": name},
        {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "oid-1"},
        *({"typ": "roles", "val": role} for role in roles),
        *({"typ": typ, "val": val} for typ, val in extra.items()),
    ]
    body = {
        "auth_typ": "aad",
        "claims": claims,
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    }
    return base64.b64encode(json.dumps(body).encode()).decode()


def test_a_signed_in_user_is_named_and_holds_the_token_roles() -> None:
    who = identify({"X-MS-CLIENT-PRINCIPAL": principal("arcwave.Approver")}, {}, ON)
    assert (who.name, who.kind, who.roles) == ("ada@contoso.com", "user", {Role.APPROVER})
    assert who.may(Role.APPROVER) and who.may(Role.READER)
    assert not who.may(Role.OPERATOR) and not who.may(Role.ADMIN)


def test_roles_under_the_role_claim_type_and_unknown_roles() -> None:
    encoded = principal(
        "Some.Other.Role",
        **{"http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "arcwave.Admin"},
    )
    assert identify({"X-MS-CLIENT-PRINCIPAL": encoded}, {}, ON).roles == {Role.ADMIN}


def test_an_application_without_a_user_is_named_by_its_client_id() -> None:
    body = {"auth_typ": "aad", "claims": [{"typ": "appid", "val": "11111111-app"}]}
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    assert identify({"X-MS-CLIENT-PRINCIPAL": encoded}, {}, ON).name == "11111111-app"


def test_with_app_service_authentication_off_principal_headers_are_never_trusted() -> None:
    forged = {
        "X-MS-CLIENT-PRINCIPAL": principal("arcwave.Approver", name="security-admin@contoso.com"),
        "X-MS-CLIENT-PRINCIPAL-NAME": "security-admin@contoso.com",
        "x-functions-key": KEY,
    }
    who = identify(forged, {}, OFF)
    assert (who.name, who.kind) == ("key:pipeline", "key")
    assert not who.may(Role.APPROVER)


def test_a_key_caller_is_named_by_its_digest_and_reads_operates_administers() -> None:
    for headers, params in (({"x-functions-key": KEY}, {}), ({}, {"code": KEY})):
        who = identify(headers, params, ON)
        assert who.name == "key:pipeline"
        assert who.roles == {Role.READER, Role.OPERATOR, Role.ADMIN}
    assert identify({"x-functions-key": "another-key-000"}, {}, ON).name == FUNCTION_KEY
    assert key_name(KEY, {}) == FUNCTION_KEY


def test_a_key_approves_only_when_the_setting_says_so() -> None:
    refusal = identify({"x-functions-key": KEY}, {}, ON).refusal(Role.APPROVER, "approve")
    assert refusal is not None and "ARCWAVE_KEYS_MAY_APPROVE" in refusal
    approving = IdentitySettings(key_names={"pipeline": DIGEST}, keys_may_approve=True)
    assert identify({"x-functions-key": KEY}, {}, approving).may(Role.APPROVER)


def test_a_refusal_names_the_role_needed_and_the_roles_held() -> None:
    who = identify({"X-MS-CLIENT-PRINCIPAL": principal("arcwave.Reader")}, {}, ON)
    assert who.refusal(Role.READER, "reading") is None
    assert who.refusal(Role.ADMIN, "changing a track") == (
        "changing a track needs the role arcwave.Admin; ada@contoso.com has arcwave.Reader"
    )
    nobody = identify({"X-MS-CLIENT-PRINCIPAL": principal()}, {}, ON)
    assert nobody.refusal(Role.READER, "reading") == (
        "reading needs the role arcwave.Reader; ada@contoso.com has no arcwave role"
    )


@pytest.mark.parametrize(
    "encoded",
    [
        "%%%not base64%%%",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"claims": "none"}').decode(),
        base64.b64encode(b'{"claims": [{"typ": "roles", "val": "arcwave.Admin"}]}').decode(),
        "A" * 70_000,
    ],
)
def test_a_principal_that_cannot_be_read_is_unidentified(encoded: str) -> None:
    with pytest.raises(Unidentified):
        identify({"X-MS-CLIENT-PRINCIPAL": encoded}, {}, ON)


def test_claims_are_read_by_type_in_order_skipping_malformed_entries() -> None:
    body = {"claims": [{"typ": "roles", "val": "a"}, {"typ": "roles", "val": "b"}, "x", {}]}
    encoded = base64.b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert read_principal(encoded) == {"roles": ["a", "b"]}


def test_key_names_are_parsed_and_a_plain_key_is_refused() -> None:
    assert parse_key_names(f" pipeline=sha256:{DIGEST.upper()}, nightly={'0' * 64} ,") == {
        "pipeline": DIGEST,
        "nightly": "0" * 64,
    }
    with pytest.raises(ValueError, match="never the key itself"):
        parse_key_names(f"pipeline={KEY}")
    with pytest.raises(ValueError, match="is not a key name"):
        parse_key_names(f"bad name=sha256:{DIGEST}")
