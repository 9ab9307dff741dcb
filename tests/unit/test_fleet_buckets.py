"""The fleet gateway's write buckets, over fake ARM operations and a fake clock: each answer's
remaining count (`x-ms-ratelimit-remaining-subscription-writes`, `-deletes`) reaches the
subscription's bucket through azure-core's per-call `raw_response_hook`, deletes have a bucket
of their own, and a subscription waiting for tokens holds only its own clusters' writes."""

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shared.adapters.arm import REMAINING_DELETES, REMAINING_WRITES, StaticTokenCredential
from shared.adapters.fleet import FleetGateway
from shared.ratelimit import BucketRegistry, TokenBucket
from shared.settings import Settings, StoreSettings
from tests.unit.test_fleet_deadline import FakeTime

SUB_A = "00000000-0000-0000-0000-00000000000a"
SUB_B = "00000000-0000-0000-0000-00000000000b"
LIVENESS_SECONDS = 30.0
"""How long the test waits for writes that must go ahead; a broken gateway fails it then."""


def cluster(subscription: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/rg"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


def answer(headers: dict[str, str]) -> Any:
    """What azure-core hands a `raw_response_hook`: a pipeline response with headers."""
    return SimpleNamespace(http_response=SimpleNamespace(headers=headers))


class AnsweringArm:
    """fluxConfigurations operations that answer each write with ARM's remaining counts
    (`remaining`: header → the counts of its next answers, in order) through the hook the
    gateway passes, and log what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.remaining: dict[str, list[int]] = {REMAINING_WRITES: [], REMAINING_DELETES: []}
        self.hooked = 0
        self._lock = threading.Lock()

    def _answer(self, method: str, name: str, hook: Any, header: str) -> None:
        with self._lock:
            self.sent.append((method, name))
            counts = self.remaining[header]
            headers = {header: str(counts.pop(0))} if counts else {}
        if hook is not None:
            self.hooked += 1
            hook(answer(headers))

    def begin_create_or_update(self, *args: Any, raw_response_hook: Any = None, **_: Any) -> None:
        self._answer("PUT", args[3], raw_response_hook, REMAINING_WRITES)

    def begin_update(self, *args: Any, raw_response_hook: Any = None, **_: Any) -> None:
        self._answer("PATCH", args[3], raw_response_hook, REMAINING_WRITES)

    def begin_delete(self, *args: Any, raw_response_hook: Any = None, **_: Any) -> None:
        self._answer("DELETE", args[3], raw_response_hook, REMAINING_DELETES)


def gateway(tmp_path: Path, registry: BucketRegistry, arm: Any, time: FakeTime) -> FleetGateway:
    settings = Settings(store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "a.db"))
    fleet = FleetGateway(
        settings,
        credential=StaticTokenCredential(),
        buckets=registry,
        sleep=time.sleep,
        now=time.utcnow,
    )
    fleet._configurations = lambda ref: arm  # type: ignore[method-assign]
    return fleet


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def registry(time: FakeTime) -> BucketRegistry:
    return BucketRegistry(lambda: TokenBucket(10, 200, clock=time.monotonic, sleep=time.sleep))


def test_the_buckets_start_with_arms_full_burst(tmp_path: Path) -> None:
    settings = Settings(store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "a.db"))
    fleet = FleetGateway(settings, credential=StaticTokenCredential())
    assert fleet._buckets[SUB_A].burst == 200
    assert fleet._buckets[SUB_A].available == pytest.approx(200)


def test_an_answer_that_says_less_is_left_lowers_the_subscriptions_bucket(
    tmp_path: Path, registry: BucketRegistry, time: FakeTime
) -> None:
    arm = AnsweringArm()
    arm.remaining[REMAINING_WRITES] = [60, 59, 58]  # another writer spent 139 before these
    fleet = gateway(tmp_path, registry, arm, time)
    ids = [cluster(SUB_A, f"c{i}") for i in range(3)]
    outcomes = fleet.write_many(ids, "baseline", {}, max_workers=1)
    assert all(o.ok for o in outcomes)
    assert arm.hooked == 3
    assert registry[SUB_A].available == pytest.approx(58)
    assert registry[f"{SUB_A}/deletes"].available == pytest.approx(200)  # untouched
    assert registry[SUB_B].available == pytest.approx(200)  # another subscription's own


def test_patches_follow_the_writes_count_and_deletes_their_own(
    tmp_path: Path, registry: BucketRegistry, time: FakeTime
) -> None:
    arm = AnsweringArm()
    arm.remaining[REMAINING_WRITES] = [120]
    arm.remaining[REMAINING_DELETES] = [7]
    fleet = gateway(tmp_path, registry, arm, time)
    assert fleet.patch(cluster(SUB_A, "c1"), "baseline", {}).ok
    assert fleet.remove(cluster(SUB_A, "c2"), "baseline").ok
    assert registry[SUB_A].available == pytest.approx(120)
    assert registry[f"{SUB_A}/deletes"].available == pytest.approx(7)


def test_an_answer_without_the_header_leaves_the_bucket_alone(
    tmp_path: Path, registry: BucketRegistry, time: FakeTime
) -> None:
    arm = AnsweringArm()  # no counts scripted: answers without the header
    fleet = gateway(tmp_path, registry, arm, time)
    assert fleet.put(cluster(SUB_A, "c1"), "baseline", {}).ok
    assert arm.hooked == 1
    assert registry[SUB_A].available == pytest.approx(199)


def test_writes_wait_for_the_tokens_arm_said_were_gone(
    tmp_path: Path, registry: BucketRegistry, time: FakeTime
) -> None:
    arm = AnsweringArm()
    arm.remaining[REMAINING_WRITES] = [0]  # the first answer: ARM's bucket is empty
    fleet = gateway(tmp_path, registry, arm, time)
    ids = [cluster(SUB_A, f"c{i}") for i in range(4)]
    outcomes = fleet.write_many(ids, "baseline", {}, max_workers=1)
    # The 2nd, 3rd and 4th writes each wait a token's refill (1/10 s), as ARM refills.
    assert [o.waited_seconds for o in outcomes] == [0.0] + [pytest.approx(0.1)] * 3
    assert time.seconds == pytest.approx(0.3)


class StalledTime(FakeTime):
    """A fake clock whose sleeps block until `release` is set (a bucket that has no token for
    as long as the test says), then move the clock on."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.release.wait()
        super().sleep(seconds)


def test_a_subscription_waiting_for_tokens_does_not_hold_another_subscriptions_writes(
    tmp_path: Path, time: FakeTime
) -> None:
    stalled = StalledTime()
    slow = TokenBucket(1, 1, clock=stalled.monotonic, sleep=stalled.sleep)
    fast = TokenBucket(10, 200, clock=time.monotonic, sleep=time.sleep)
    registry = BucketRegistry(lambda: fast)
    registry._buckets[SUB_A] = slow  # subscription A: one token, then none until released
    arm = AnsweringArm()
    b_written = threading.Event()
    original = arm._answer

    def answer_and_note(method: str, name: str, hook: Any, header: str) -> None:
        original(method, name, hook, header)
        if sum(1 for _, n in arm.sent if n.startswith("b")) == 5:
            b_written.set()

    arm._answer = answer_and_note  # type: ignore[method-assign]
    fleet = gateway(tmp_path, registry, arm, time)
    # A's 20 clusters come first in the batch: 16 workers in one pool would all wait on A's
    # bucket, and B's 5 would wait behind them.
    ids = [cluster(SUB_A, f"a{i:02d}") for i in range(20)]
    ids += [cluster(SUB_B, f"b{i}") for i in range(5)]
    outcomes: list[Any] = []
    writer = threading.Thread(target=lambda: outcomes.extend(fleet.write_many(ids, "x", {})))
    writer.start()
    try:
        assert b_written.wait(LIVENESS_SECONDS), f"B's writes were held: sent {arm.sent}"
        assert [n for _, n in arm.sent if n.startswith("a")] == ["a00"]  # A still waits
    finally:
        stalled.release.set()
        writer.join(LIVENESS_SECONDS)
    assert [o.cluster_id for o in outcomes] == ids  # input order
    assert all(o.ok for o in outcomes)
    assert sorted(n for _, n in arm.sent) == sorted(i.rsplit("/", 1)[1] for i in ids)
