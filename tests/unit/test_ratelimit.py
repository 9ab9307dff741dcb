"""The client-side write bucket, on a fake clock (no real waiting)."""

import threading

import pytest

from shared.ratelimit import BucketRegistry, QuotaPacer, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(rate: float = 10, burst: int = 200) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep), clock


def test_tokens_up_to_the_burst_are_free() -> None:
    limiter, clock = bucket(burst=200)
    for _ in range(200):
        assert limiter.take() == 0
    assert clock.now == 0


def test_after_the_burst_the_rate_holds() -> None:
    limiter, clock = bucket(rate=10, burst=200)
    for _ in range(200):
        limiter.take()
    for _ in range(100):
        limiter.take()
    assert clock.now == pytest.approx(10.0, rel=0.01)


def test_sustained_rate_over_a_long_run_matches_the_refill() -> None:
    limiter, clock = bucket(rate=10, burst=5)
    for _ in range(1005):
        limiter.take()
    assert 1000 / clock.now == pytest.approx(10.0, rel=0.01)


def test_refill_is_capped_at_the_burst() -> None:
    limiter, clock = bucket(rate=10, burst=3)
    for _ in range(3):
        limiter.take()
    clock.now += 100
    assert limiter.available == 3


def test_a_token_given_back_is_free_again_but_never_above_the_burst() -> None:
    limiter, clock = bucket(rate=10, burst=2)
    limiter.take()
    limiter.take()
    limiter.give_back()
    assert limiter.take() == 0 and clock.now == 0
    limiter.give_back()
    limiter.give_back()
    limiter.give_back()
    assert limiter.available == 2


def test_pause_empties_the_bucket_and_waits_out_retry_after() -> None:
    limiter, clock = bucket(rate=10, burst=200)
    limiter.pause(7)
    limiter.take()
    assert clock.now >= 7
    assert clock.now < 7.2


def test_pause_never_shortens_an_earlier_pause() -> None:
    limiter, clock = bucket()
    limiter.pause(10)
    limiter.pause(2)
    limiter.take()
    assert clock.now >= 10


def test_threads_share_one_budget() -> None:
    limiter = TokenBucket(1000, 50)
    taken = []

    def worker() -> None:
        for _ in range(25):
            limiter.take()
            taken.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 100


def test_registry_keeps_one_bucket_per_subscription_case_insensitively() -> None:
    registry = BucketRegistry(lambda: TokenBucket(10, 200))
    assert registry["ABC"] is registry["abc"]
    assert registry["abc"] is not registry["def"]


def test_refuses_nonsense_sizes() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(0, 1)


def pacer() -> tuple[QuotaPacer, FakeClock]:
    clock = FakeClock()
    return QuotaPacer(clock.sleep, clock=clock), clock


def test_the_pacer_waits_for_the_window_only_when_the_quota_is_used_up() -> None:
    quota, clock = pacer()
    assert quota.wait() == 0.0  # nothing known yet
    quota.update("2", 5.0)
    assert quota.wait() == 0.0
    assert quota.wait() == 0.0  # spoken for: 0 left until an answer says otherwise
    assert quota.wait() == 5.0  # waits for the window to reset
    assert clock.slept == [5.0]
    assert quota.wait() == 0.0  # a new window


def test_a_429_holds_every_query_for_its_retry_after() -> None:
    quota, _ = pacer()
    quota.update("10", 5.0)
    quota.exhausted(3.0)
    assert quota.wait() == 5.0  # never shorter than the window the last answer named
    quota.update("garbage", 5.0)
    quota.update(None, 5.0)
    assert quota.wait() == 0.0
