"""ARM token buckets and ARG's user quota, with a hand-driven clock."""

from __future__ import annotations

import pytest

from emulator.exceptions import TooManyRequests
from emulator.scenario import ResourceGraphQuota, ThrottleSpec
from emulator.throttle import ArmThrottle, GraphQuota, operation_type


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def small_spec() -> ThrottleSpec:
    return ThrottleSpec.model_validate(
        {
            "writes": {"bucket": 3, "refillPerSecond": 1},
            "reads": {"bucket": 5, "refillPerSecond": 5},
            "deletes": {"bucket": 2, "refillPerSecond": 0.5},
        }
    )


def test_defaults_are_arm_numbers() -> None:
    spec = ThrottleSpec()
    assert (spec.writes.bucket, spec.writes.refill_per_second) == (200, 10)
    assert (spec.reads.bucket, spec.reads.refill_per_second) == (250, 25)
    assert (spec.deletes.bucket, spec.deletes.refill_per_second) == (200, 10)


def test_burst_up_to_bucket_size_then_429() -> None:
    """Tokens up to the bucket size are available at once; the next write gets 429."""
    throttle = ArmThrottle(small_spec(), FakeClock())
    remaining = [
        throttle.admit("sub", "PUT")["x-ms-ratelimit-remaining-subscription-writes"]
        for _ in range(3)
    ]
    assert remaining == ["2", "1", "0"]
    with pytest.raises(TooManyRequests) as caught:
        throttle.admit("sub", "PATCH")
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "1"
    assert caught.value.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"


def test_bucket_refills_over_time() -> None:
    clock = FakeClock()
    throttle = ArmThrottle(small_spec(), clock)
    for _ in range(3):
        throttle.admit("sub", "PUT")
    clock.now += 2.0
    throttle.admit("sub", "PUT")
    throttle.admit("sub", "PUT")
    with pytest.raises(TooManyRequests):
        throttle.admit("sub", "PUT")


def test_buckets_are_per_subscription_and_operation_type() -> None:
    throttle = ArmThrottle(small_spec(), FakeClock())
    for _ in range(3):
        throttle.admit("sub-a", "PUT")
    throttle.admit("sub-b", "PUT")
    headers = throttle.admit("sub-a", "GET")
    assert headers == {"x-ms-ratelimit-remaining-subscription-reads": "4"}
    assert throttle.admit("sub-a", "DELETE") == {
        "x-ms-ratelimit-remaining-subscription-deletes": "1"
    }


def test_operation_types() -> None:
    assert [operation_type(m) for m in ("GET", "PUT", "PATCH", "POST", "DELETE")] == [
        "reads",
        "writes",
        "writes",
        "writes",
        "deletes",
    ]


def test_graph_quota_window_reports_and_limits() -> None:
    clock = FakeClock()
    quota = GraphQuota(ResourceGraphQuota(queries=2, window_seconds=5), clock)
    allowed, headers = quota.admit("user")
    assert allowed and headers["x-ms-user-quota-remaining"] == "1"
    assert headers["x-ms-user-quota-resets-after"] == "00:00:05"
    quota.admit("user")
    allowed, headers = quota.admit("user")
    assert not allowed and headers["Retry-After"] == "5"
    clock.now += 5
    assert quota.admit("user")[0]


def test_graph_quota_without_limit_reports_a_generous_window() -> None:
    """No resourceGraph quota configured: every answer says 14 of 15 left for 5 s, never 429."""
    quota = GraphQuota(None, FakeClock())
    results = [quota.admit("user") for _ in range(100)]
    assert all(allowed for allowed, _ in results)
    assert {tuple(sorted(headers.items())) for _, headers in results} == {
        (("x-ms-user-quota-remaining", "14"), ("x-ms-user-quota-resets-after", "00:00:05"))
    }


def test_graph_quota_counts_down_and_resets_after_shrinks() -> None:
    clock = FakeClock()
    quota = GraphQuota(ResourceGraphQuota(queries=4, window_seconds=10), clock)
    seen = []
    for _ in range(4):
        allowed, headers = quota.admit("user")
        assert allowed
        seen.append(headers["x-ms-user-quota-remaining"])
        clock.now += 2
    assert seen == ["3", "2", "1", "0"]
    allowed, headers = quota.admit("user")
    assert not allowed
    assert headers["x-ms-user-quota-resets-after"] == "00:00:02"
    assert quota.peek("user")["x-ms-user-quota-remaining"] == "0"
    assert quota.peek("someone-else")["x-ms-user-quota-remaining"] == "4"
