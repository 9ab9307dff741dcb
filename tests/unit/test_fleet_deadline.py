"""The fleet gateway's write deadline, over fake ARM operations and a fake clock (no waiting):
a write whose deadline (its maintenance window's close) has passed once the subscription's
bucket hands it a token, or before any attempt, is not sent, gives its token back and comes
back as `WindowClosed` naming the close."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.arm import StaticTokenCredential
from shared.adapters.fleet import WINDOW_CLOSED, FleetGateway
from shared.ratelimit import BucketRegistry, TokenBucket
from shared.settings import Settings, StoreSettings
from tests.unit.test_arm_errors import arm_error

SUB = "00000000-0000-0000-0000-000000000001"
START = datetime(2024, 1, 1, 2, 59, 59, 500000, tzinfo=UTC)
CLOSE = datetime(2024, 1, 1, 3, tzinfo=UTC)
"""Half a second after START: a bucket of 4 refilled at 1/s has its 5th token only after it."""


class FakeTime:
    """One clock for the bucket (monotonic seconds), the deadline (wall clock) and sleeps."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.seconds

    def utcnow(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds


class FakeArm:
    """fluxConfigurations operations that log every write sent; `failures` scripts errors
    (cluster name → the errors its next attempts raise, in order)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failures: dict[str, list[Exception]] = {}
        self._lock = threading.Lock()

    def _send(self, method: str, cluster: str) -> None:
        with self._lock:
            self.sent.append((method, cluster))
            queued = self.failures.get(cluster)
            if queued:
                raise queued.pop(0)

    def begin_create_or_update(
        self, rg: str, rp: str, kind: str, name: str, *a: Any, **k: Any
    ) -> None:
        self._send("PUT", name)

    def begin_update(self, rg: str, rp: str, kind: str, name: str, *a: Any, **k: Any) -> None:
        self._send("PATCH", name)

    def begin_delete(self, rg: str, rp: str, kind: str, name: str, *a: Any, **k: Any) -> None:
        self._send("DELETE", name)


def cluster(name: str) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


class Rig:
    def __init__(self, tmp_path: Path, rate: float, burst: int) -> None:
        self.time = FakeTime()
        self.arm = FakeArm()
        self.bucket = TokenBucket(rate, burst, clock=self.time.monotonic, sleep=self.time.sleep)
        settings = Settings(store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "a.db"))
        self.gateway = FleetGateway(
            settings,
            credential=StaticTokenCredential(),
            buckets=BucketRegistry(lambda: self.bucket),
            sleep=self.time.sleep,
            now=self.time.utcnow,
        )
        self.gateway._configurations = lambda ref: self.arm  # type: ignore[method-assign]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield Rig(tmp_path, rate=1.0, burst=4)


def names(count: int) -> list[str]:
    return [f"c{i}" for i in range(1, count + 1)]


def test_writes_whose_token_comes_after_the_close_are_not_sent(rig: Rig) -> None:
    ids = [cluster(n) for n in names(8)]
    outcomes = rig.gateway.write_many(
        ids, "baseline", {}, max_workers=1, deadlines=dict.fromkeys(ids, CLOSE)
    )
    # The burst's 4 tokens go at once; the 5th comes a second later, past the close.
    assert rig.arm.sent == [("PUT", n) for n in names(4)]
    assert [o.ok for o in outcomes] == [True] * 4 + [False] * 4
    refused = outcomes[4:]
    assert {o.error for o in refused} == {WINDOW_CLOSED}
    assert all("window closed at 2024-01-01 03:00:00 UTC" in o.message for o in refused)
    assert not any(o.maybe_written for o in refused)
    # Only the 5th write waited (for its token, then gave it back); the others saw the close
    # before asking for one. The token is in the bucket again.
    assert [o.waited_seconds for o in refused] == [pytest.approx(1.0), 0.0, 0.0, 0.0]
    assert "waited 1.0s" in refused[0].message
    assert rig.time.seconds == pytest.approx(1.0)
    assert rig.bucket.available == pytest.approx(1.0)


def test_a_token_given_back_goes_to_the_next_write_at_once(rig: Rig) -> None:
    ids = [cluster(n) for n in names(6)]
    # c5 has the deadline; c6, after it, has none (a cluster no window binds).
    deadlines = {ids[4]: CLOSE}
    outcomes = rig.gateway.write_many(ids, "baseline", {}, max_workers=1, deadlines=deadlines)
    assert [o.error for o in outcomes] == [None] * 4 + [WINDOW_CLOSED, None]
    assert rig.arm.sent == [("PUT", n) for n in names(6) if n != "c5"]
    # c6 took the token c5 gave back: no second wait.
    assert outcomes[5].waited_seconds == 0.0
    assert rig.time.seconds == pytest.approx(1.0)


def test_in_parallel_exactly_the_tokens_before_the_close_are_sent(rig: Rig) -> None:
    ids = [cluster(n) for n in names(12)]
    outcomes = rig.gateway.write_many(
        ids, "baseline", {}, patch=True, max_workers=12, deadlines=dict.fromkeys(ids, CLOSE)
    )
    assert len(rig.arm.sent) == 4
    assert sum(o.ok for o in outcomes) == 4
    assert sum(o.error == WINDOW_CLOSED for o in outcomes) == 8
    # Every token taken for a refused write came back: the bucket holds what refilling alone
    # gives since the burst was spent at START (capped at the burst).
    assert rig.bucket.available == pytest.approx(min(4.0, rig.time.seconds))


def test_without_a_deadline_a_write_waits_for_its_token_and_is_sent(rig: Rig) -> None:
    ids = [cluster(n) for n in names(6)]
    outcomes = rig.gateway.write_many(ids, "baseline", {}, max_workers=1)
    assert all(o.ok for o in outcomes)
    assert len(rig.arm.sent) == 6
    assert rig.time.seconds == pytest.approx(2.0)


def test_a_retry_past_the_close_is_not_sent_and_may_have_landed(rig: Rig) -> None:
    rig.arm.failures["c1"] = [arm_error(503, "ServiceUnavailable", "try later")]
    outcome = rig.gateway.remove(cluster("c1"), "baseline", deadline=CLOSE)
    # The 503 came back, the gateway slept before trying again, and by then the window closed.
    assert rig.arm.sent == [("DELETE", "c1")]
    assert (outcome.ok, outcome.error, outcome.maybe_written) == (False, WINDOW_CLOSED, True)
    assert "an earlier attempt failed transiently and may have landed" in outcome.message


def test_a_429_whose_retry_after_outlasts_the_window_is_not_sent_again(rig: Rig) -> None:
    rig.arm.failures["c1"] = [arm_error(429, "TooManyRequests", "throttled", {"Retry-After": "2"})]
    outcome = rig.gateway.patch(cluster("c1"), "baseline", {}, deadline=CLOSE)
    assert rig.arm.sent == [("PATCH", "c1")]
    # A 429 is a refusal: nothing landed.
    assert (outcome.error, outcome.maybe_written) == (WINDOW_CLOSED, False)
    # The retry waited out the pause and the refill (3s), then gave its token back.
    assert outcome.waited_seconds == pytest.approx(3.0)
    assert rig.bucket.available == pytest.approx(1.0)


def test_a_write_after_the_close_takes_no_token(rig: Rig) -> None:
    rig.time.sleep(1.0)  # 03:00:00.5
    outcome = rig.gateway.put(cluster("c1"), "baseline", {}, deadline=CLOSE)
    assert (outcome.error, outcome.waited_seconds) == (WINDOW_CLOSED, 0.0)
    assert rig.arm.sent == []
    assert rig.bucket.available == pytest.approx(4.0)
