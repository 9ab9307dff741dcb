"""Waking an orchestration: an instance that is gone or never was is nothing to wake; any
other failure is logged, never swallowed silently."""

import asyncio
import logging

import pytest

from triggers.dispatch import if_there, wake


class Client:
    def __init__(self, error: str | None) -> None:
        self.error = error
        self.raised: list[tuple[str, str, object]] = []

    async def raise_event(self, instance: str, event: str, data: object) -> None:
        if self.error:
            raise Exception(self.error)
        self.raised.append((instance, event, data))


def test_a_live_instance_is_woken() -> None:
    client = Client(None)
    assert asyncio.run(wake(client, "r1", "control", {"command": "pause"}))  # type: ignore[arg-type]
    assert client.raised == [("r1", "control", {"command": "pause"})]


@pytest.mark.parametrize(
    "error",
    [
        "No instance with ID r1 found.",
        "Instance with ID r1 is gone: either completed or failed",
        "No instance with ID 'r1' found.",
    ],
)
def test_a_missing_or_finished_instance_is_quietly_nothing_to_wake(
    error: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert not asyncio.run(wake(Client(error), "r1", "control", {}))  # type: ignore[arg-type]
    assert caplog.records == []


def test_any_other_failure_is_logged_with_what_was_attempted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client("Webhook returned unrecognized status code 500")
    with caplog.at_level(logging.WARNING):
        assert not asyncio.run(wake(client, "r1", "control", {}))  # type: ignore[arg-type]
    [entry] = caplog.records
    assert "raise control on r1" in entry.getMessage()
    assert "status code 500" in entry.getMessage()


def test_if_there_runs_any_client_call() -> None:
    async def done() -> None:
        return None

    assert asyncio.run(if_there(done(), "terminate track:baseline"))
