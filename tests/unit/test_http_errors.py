"""Every failure a trigger meets is answered by its kind, never with a traceback."""

import asyncio
import json
import logging

import azure.functions as func
import pytest

from shared.errors import Forbidden, NotFound, PermanentError, Throttled
from shared.problems import InvalidInput, Problem
from shared.settings import SettingsError
from shared.store import (
    CommandRefused,
    Conflict,
    DocumentTooLarge,
    PreconditionFailed,
    StoreMisconfigured,
    StoreUnavailable,
)
from shared.store import NotFound as StoreNotFound
from shared.store.waiting import on_budget, time_left
from triggers.http import (
    COMMAND_MAX_BYTES,
    REQUEST_STORE_SECONDS,
    BodyTooLarge,
    PreconditionFailedError,
    guarded,
    read_body,
    read_json,
)


def answered(error: Exception) -> tuple[int, dict[str, object], dict[str, str]]:
    @guarded
    async def handler() -> func.HttpResponse:
        raise error

    response = asyncio.run(handler())
    return response.status_code, json.loads(response.get_body()), dict(response.headers)


@pytest.mark.parametrize(
    ("error", "status", "says"),
    [
        (InvalidInput("track spec", [Problem("waves", "missing", "required")]), 400, "track spec"),
        (NotFound("cluster 'c1' not found"), 404, "cluster 'c1' not found"),
        (StoreNotFound("no rollout 'r9'", container="rollouts", id="r9"), 404, "no rollout 'r9'"),
        (CommandRefused("cannot resume: rollout 'r1' is Running, not paused"), 409, "not paused"),
        (Conflict("rollout 'r1' exists", container="rollouts", id="r1"), 409, "exists"),
        (
            PreconditionFailed("rollout 'r1' changed", container="rollouts", id="r1"),
            409,
            "try again",
        ),
        (PermanentError("refused"), 409, "refused"),
        (PreconditionFailedError("t", '"v2"', '"v1"'), 412, 'ETag is "v2"'),
        (Forbidden("grant the arcwave role on the subscription"), 502, "grant the arcwave role"),
        (SettingsError("ARCWAVE_POLL_SECONDS: not a number"), 503, "misconfigured"),
        (StoreMisconfigured("container 'x' missing"), 503, "misconfigured"),
        (StoreUnavailable("throttled", retry_after=7), 503, "try again"),
        (Throttled("slow down", delay=3), 503, "try again"),
        (RuntimeError("a bug"), 500, "internal error"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_each_kind_has_its_answer(error: Exception, status: int, says: str) -> None:
    code, body, _ = answered(error)
    assert code == status
    assert says in str(body["error"])
    assert "Traceback" not in json.dumps(body)


def test_a_transient_answer_says_when_to_come_back() -> None:
    assert answered(StoreUnavailable("throttled", retry_after=7))[2]["Retry-After"] == "7"
    assert answered(Throttled("slow down", delay=3))[2]["Retry-After"] == "3"


def test_a_misconfiguration_is_named_in_the_log_not_the_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        _, body, _ = answered(SettingsError("ARCWAVE_KEYVAULT_URL: not a URL"))
    assert "ARCWAVE_KEYVAULT_URL" not in json.dumps(body)
    assert "ARCWAVE_KEYVAULT_URL" in caplog.text


def test_a_body_over_its_cap_is_413_naming_the_limit() -> None:
    code, body, _ = answered(BodyTooLarge("track spec", 256 * 1024, 300_000))
    assert code == 413
    assert body == {
        "error": "the track spec is larger than 256 KiB (300,000 bytes), the most this route "
        "accepts",
        "limit": 262_144,
    }


def test_a_document_over_the_store_limit_is_413() -> None:
    error = DocumentTooLarge(
        "document 't' would be 2,100,000 bytes", size=2_100_000, container="tracks", id="t"
    )
    code, body, _ = answered(error)
    assert code == 413
    assert body["limit"] == 2_000_000 and "too large to store" in str(body["error"])


class UnreadBody(func.HttpRequest):
    """A request whose body must not be read: its Content-Length already says too much."""

    def get_body(self) -> bytes:
        raise AssertionError("the body was read")


def test_a_content_length_over_the_cap_is_refused_without_reading_the_body() -> None:
    req = UnreadBody("PUT", "/api/tracks/t", headers={"Content-Length": "999999999"}, body=b"")
    with pytest.raises(BodyTooLarge, match="999,999,999 bytes"):
        read_body(req, 1024, "track spec")


def test_a_body_over_the_cap_without_a_content_length_is_refused_too() -> None:
    req = func.HttpRequest("POST", "/api/x", headers={}, body=b"x" * 1025)
    with pytest.raises(BodyTooLarge, match="larger than 1 KiB"):
        read_body(req, 1024, "rollout request")
    assert read_body(func.HttpRequest("POST", "/", body=b"x" * 1024), 1024, "x") == b"x" * 1024


def test_command_bodies_are_capped_and_their_nesting_bounded() -> None:
    big = func.HttpRequest(
        "POST", "/api/x", body=b'{"reason": "' + b"x" * COMMAND_MAX_BYTES + b'"}'
    )
    with pytest.raises(BodyTooLarge):
        read_json(big, "rollout request")
    deep = func.HttpRequest("POST", "/api/x", body=b"[" * 3000 + b"]" * 3000)
    with pytest.raises(InvalidInput) as caught:
        read_json(deep, "rollout request")
    assert caught.value.problems[0].type == "too_deep"


def test_handlers_run_on_the_request_store_budget() -> None:
    seen: list[float] = []

    @guarded
    async def handler() -> func.HttpResponse:
        seen.append(time_left(30.0))
        return func.HttpResponse("ok")

    asyncio.run(handler())
    assert 0 < seen[0] <= REQUEST_STORE_SECONDS
    assert not on_budget()
