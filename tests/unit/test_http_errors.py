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
    PreconditionFailed,
    StoreMisconfigured,
    StoreUnavailable,
)
from shared.store import NotFound as StoreNotFound
from triggers.http import PreconditionFailedError, guarded


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
