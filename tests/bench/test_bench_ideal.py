"""The physical ideal of a rollout (bench/ideal.py): ARM's bucket per subscription, tokens
spent once, subscriptions side by side, each wave ending at its last write + the slowest
reconcile, waves one after another, the in-flight window."""

import pytest

from bench.ideal import ARM_WRITES, IdealWave, ideal_seconds, interleaved, wave_seconds
from shared.eta import WriteBudget

SUB, OTHER = "sub-a", "sub-b"


def test_arms_bucket_is_200_at_once_then_10_a_second() -> None:
    assert (ARM_WRITES.burst, ARM_WRITES.per_second) == (200, 10.0)


def test_a_wave_within_the_burst_takes_its_slowest_reconcile() -> None:
    assert ideal_seconds([IdealWave("canary", {SUB: 10}, slowest=1.25)]) == pytest.approx(1.25)


def test_past_the_burst_writes_come_at_the_refill_rate() -> None:
    # The 1,000th write takes the (1,000 - 200)th refilled token, 80 s in.
    wave = IdealWave("all", {SUB: 1000}, slowest=1.25)
    assert ideal_seconds([wave]) == pytest.approx(80 + 1.25)


def test_tokens_the_writes_spent_are_not_refilled_twice() -> None:
    waves = [IdealWave("one", {SUB: 300}, slowest=1.0), IdealWave("two", {SUB: 300}, slowest=1.0)]
    # One: 200 at once, 100 more by 10 s, Healthy at 11 s; its writes spent every token the
    # bucket refilled meanwhile, so two starts with only the 10 refilled during the last
    # reconcile: 290 to wait for, the last written at 11 + 29 s, Healthy at 41 s.
    assert wave_seconds(waves) == [pytest.approx(11.0), pytest.approx(30.0)]
    assert ideal_seconds(waves) == pytest.approx(41.0)


def test_the_bucket_refills_between_waves_but_never_above_its_burst() -> None:
    waves = [IdealWave("one", {SUB: 200}, slowest=60.0), IdealWave("two", {SUB: 200}, slowest=1)]
    # 600 tokens' worth of refill during one's reconcile, capped at 200: two fits its burst.
    assert wave_seconds(waves) == [pytest.approx(60.0), pytest.approx(1.0)]


def test_subscriptions_spend_their_own_buckets_side_by_side() -> None:
    one = IdealWave("all", {SUB: 300}, slowest=1.0)
    two = IdealWave("all", {SUB: 300, OTHER: 300}, slowest=1.0)
    # Twice the clusters over two subscriptions take no longer than half over one.
    assert ideal_seconds([two]) == pytest.approx(ideal_seconds([one])) == pytest.approx(11.0)


def test_the_in_flight_window_holds_clusters_until_a_slot_frees() -> None:
    wave = IdealWave("early", {SUB: 90}, slowest=1.0, max_in_flight=50)
    # 50 written at once; the other 40 as the first 40 verdicts come, 1 s in.
    assert ideal_seconds([wave]) == pytest.approx(2.0)


def test_another_bucket_can_be_given() -> None:
    wave = IdealWave("all", {SUB: 30}, slowest=0.5)
    slow = WriteBudget(burst=10, per_second=5)
    assert ideal_seconds([wave], slow) == pytest.approx((30 - 10) / 5 + 0.5)


def test_an_empty_wave_takes_no_time() -> None:
    waves = [IdealWave("none", {}, slowest=1.0), IdealWave("canary", {SUB: 1}, slowest=1.0)]
    assert wave_seconds(waves) == [0.0, pytest.approx(1.0)]


def test_subscriptions_are_interleaved_in_proportion() -> None:
    assert interleaved({SUB: 3, OTHER: 1}) == [SUB, SUB, OTHER, SUB]
    assert interleaved({SUB: 2, OTHER: 2}) == [SUB, OTHER, SUB, OTHER]
    assert interleaved({}) == []
