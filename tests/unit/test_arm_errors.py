"""SDK errors become arcwave's domain errors with messages an operator can act on."""

import json
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.mgmt.core.exceptions import ARMErrorFormat

from shared.adapters.arm import StaticTokenCredential, map_arm_error
from shared.errors import Forbidden, Invalid, NotFound, Throttled, TransientError

DOING = "failed to apply fluxConfiguration 'baseline' on cluster 'edge-17'"


class Response:
    """Just enough of an HTTP response for azure-core's error classes."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status_code = status
        self.headers = headers or {}
        self.reason = "reason"
        self.content_type = "application/json"
        self._body = json.dumps(body)
        self.request = None

    def text(self, encoding: str | None = None) -> str:
        return self._body

    def body(self) -> bytes:
        return self._body.encode()


def arm_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> HttpResponseError:
    response = Response(status, {"error": {"code": code, "message": message}}, headers)
    return HttpResponseError(response=response, error_format=ARMErrorFormat)


def test_throttling_carries_retry_after() -> None:
    mapped = map_arm_error(
        arm_error(429, "TooManyRequests", "The request is being throttled.", {"Retry-After": "7"}),
        DOING,
    )
    assert isinstance(mapped, Throttled)
    assert mapped.delay == 7
    assert str(mapped) == f"{DOING}: throttled by ARM, retry in 7s"


def test_throttling_without_retry_after_uses_a_default() -> None:
    mapped = map_arm_error(arm_error(429, "TooManyRequests", "slow down"), DOING)
    assert isinstance(mapped, Throttled) and mapped.delay == 5


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transient(status: int) -> None:
    mapped = map_arm_error(arm_error(status, "InternalServerError", "boom"), DOING)
    assert type(mapped) is TransientError
    assert f"ARM answered {status}: (InternalServerError) boom" in str(mapped)


def test_bad_requests_are_invalid_with_the_arm_code() -> None:
    mapped = map_arm_error(
        arm_error(400, "InvalidParameter", "dependsOn names 'infr', which does not exist"), DOING
    )
    assert isinstance(mapped, Invalid)
    assert str(mapped) == (
        f"{DOING}: refused (400): (InvalidParameter) dependsOn names 'infr', which does not exist"
    )


def test_forbidden_says_what_to_grant() -> None:
    mapped = map_arm_error(arm_error(403, "AuthorizationFailed", "no write"), DOING)
    assert isinstance(mapped, Forbidden)
    assert "grant arcwave's identity the arcwave role" in str(mapped)


def test_not_found_and_auth_errors() -> None:
    not_found = ResourceNotFoundError(
        response=Response(404, {"error": {"code": "ResourceNotFound", "message": "gone"}}),
        error_format=ARMErrorFormat,
    )
    assert isinstance(map_arm_error(not_found, DOING), NotFound)
    assert isinstance(map_arm_error(ClientAuthenticationError("no token"), DOING), Forbidden)


def test_connection_failures_are_transient() -> None:
    mapped = map_arm_error(ServiceRequestError("connection refused"), DOING)
    assert type(mapped) is TransientError
    assert "connection failed" in str(mapped)


def test_long_bodies_are_cut_to_one_line() -> None:
    mapped = map_arm_error(arm_error(400, "Bad", "x\n" * 1000), DOING)
    assert "\n" not in str(mapped)
    assert len(str(mapped)) < 500


def test_the_emulator_credential_hands_out_a_token() -> None:
    token = StaticTokenCredential().get_token("https://management.azure.com/.default")
    assert token.token and token.expires_on > 0
