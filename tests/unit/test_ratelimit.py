"""The client-side write bucket, on a fake clock (no real waiting)."""

import random
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


# -- following ARM's answers ---------------------------------------------------------------


class ArmBucket:
    """ARM's side: a bucket of `size` refilled at `rate`; an admitted write answers with the
    whole tokens left (`x-ms-ratelimit-remaining-subscription-writes`), an empty one 429s."""

    def __init__(self, clock: FakeClock, rate: float = 10, size: int = 200) -> None:
        self.clock, self.rate, self.size = clock, rate, size
        self.tokens, self.updated = float(size), clock.now
        self.throttled = 0

    def admit(self) -> int | None:
        now = self.clock.now
        self.tokens = min(self.size, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            self.throttled += 1
            return None
        self.tokens -= 1
        return int(self.tokens)


def write(limiter: TokenBucket, arm: ArmBucket, *, follow: bool = True) -> None:
    """One write as the gateway makes it: a token, the request, the answer learned."""
    _, ticket = limiter.take_ticket()
    remaining = arm.admit()
    if remaining is None:
        limiter.pause(1.0)
    elif follow:
        limiter.learn(remaining, ticket)


def test_a_lower_remaining_count_lowers_the_bucket() -> None:
    limiter, _ = bucket(rate=10, burst=200)
    _, ticket = limiter.take_ticket()
    limiter.learn(50, ticket)
    assert limiter.available == pytest.approx(50)


def test_a_higher_remaining_count_never_raises_it() -> None:
    limiter, _ = bucket(rate=10, burst=200)
    for _ in range(150):
        _, ticket = limiter.take_ticket()
    limiter.learn(199, ticket)
    assert limiter.available == pytest.approx(50)


def test_tokens_taken_after_the_answered_write_count_against_what_arm_said() -> None:
    limiter, _ = bucket(rate=10, burst=200)
    _, first = limiter.take_ticket()
    for _ in range(9):
        limiter.take()  # sent after the first; ARM may not have counted them yet
    limiter.learn(100, first)
    assert limiter.available == pytest.approx(100 - 9)


def test_what_arm_refilled_since_the_token_was_taken_counts_for_the_write() -> None:
    limiter, clock = bucket(rate=10, burst=200)
    limiter.take()
    _, ticket = limiter.take_ticket()
    clock.now += 2.0  # a slow answer: ARM refilled 20 tokens meanwhile
    limiter.learn(50, ticket)
    assert limiter.available == pytest.approx(50 + 20)


def test_the_answer_to_a_full_buckets_first_write_moves_its_refill_in_line_with_arms() -> None:
    limiter, clock = bucket(rate=10, burst=4)
    _, first = limiter.take_ticket()  # the bucket was full: its refill starts now
    for _ in range(3):
        limiter.take()
    # ARM admitted the first write a little later (a new connection), and its refill started
    # only then: it says 3 were left after it, and the other 3 writes took them.
    clock.now = 0.05
    limiter.learn(3, first)
    assert limiter.available == pytest.approx(0)
    # The next token comes a refill after the answer, not 0.1 s after the first take.
    assert limiter.take() == pytest.approx(0.1)
    assert clock.now == pytest.approx(0.15)


def test_writes_already_sent_beyond_what_arm_has_make_the_next_token_wait() -> None:
    limiter, clock = bucket(rate=10, burst=200)
    _, first = limiter.take_ticket()
    for _ in range(5):
        limiter.take()
    limiter.learn(0, first)  # ARM had nothing left: the 5 sent after it overdraw it
    assert limiter.available == pytest.approx(-5)
    assert limiter.take() == pytest.approx(0.6)  # (1 - (-5)) / 10
    assert clock.now == pytest.approx(0.6)


def test_a_fraction_of_a_token_is_kept_when_arm_rounds_its_own_away() -> None:
    limiter, clock = bucket(rate=10, burst=200)
    for _ in range(200):
        limiter.take()
    clock.now += 0.25  # 2.5 tokens
    _, ticket = limiter.take_ticket()  # 1.5 left
    limiter.learn(1, ticket)  # ARM: 1.5 left too, shown as 1
    assert limiter.available == pytest.approx(1.5)


def test_answers_of_a_lone_writer_never_slow_it_down() -> None:
    clock = FakeClock()
    limiter = TokenBucket(10, 200, clock=clock, sleep=clock.sleep)
    arm = ArmBucket(clock)
    for _ in range(500):
        write(limiter, arm)
        clock.now += 0.013  # each answer takes a while: both buckets refill in fractions
    # The burst, then ARM's 10/s: whole tokens counted, fractions never lost. Without the
    # answers' latency the 500 writes would take (500 - 200) / 10 = 30 s; with it, the burst
    # lasts longer (200 x 0.013 s, refilling 26 tokens meanwhile).
    assert clock.now == pytest.approx((500 - 200 - 26) / 10 + 200 * 0.013, abs=0.05)
    assert arm.throttled == 0


def concurrent_writes(limiter: TokenBucket, arm: ArmBucket, count: int, seed: int) -> None:
    """`count` writes, up to 16 side by side while the bucket has the tokens (one at a time
    once it waits for its refill), as the gateway's workers send them: the requests reach ARM
    in a shuffled order, and each answer comes back in the order ARM admitted it."""
    rng = random.Random(seed)
    sent = 0
    while sent < count:
        side_by_side = min(16, count - sent, max(1, int(limiter.available)))
        tickets = [limiter.take_ticket()[1] for _ in range(side_by_side)]
        for ticket in rng.sample(tickets, len(tickets)):
            remaining = arm.admit()
            assert remaining is not None
            limiter.learn(remaining, ticket)
        sent += side_by_side


def test_writes_reaching_arm_out_of_order_never_slow_a_lone_writer_down() -> None:
    finished = []
    for follow in (True, False):
        clock = FakeClock()
        limiter = TokenBucket(10, 200, clock=clock, sleep=clock.sleep)
        arm = ArmBucket(clock)
        if follow:
            concurrent_writes(limiter, arm, 800, seed=18)
        else:
            for _ in range(800):
                limiter.take()
        assert arm.throttled == 0
        finished.append(clock.now)
    # An answer to a write that reached ARM after later ones already counts them; those
    # whose answers came are not subtracted again, so the bucket keeps ARM's pace instead of
    # ratcheting down.
    assert finished[0] == pytest.approx(finished[1], abs=0.2)
    assert finished[1] == pytest.approx((800 - 200) / 10, abs=0.1)


def test_a_later_write_already_answered_is_not_counted_twice() -> None:
    limiter, _ = bucket(rate=10, burst=200)
    _, earlier = limiter.take_ticket()
    _, later = limiter.take_ticket()
    limiter.learn(199, later)  # ARM counted the later write first...
    limiter.learn(198, earlier)  # ...so this count includes it: nothing else is in flight
    assert limiter.available == pytest.approx(198)


def test_a_later_write_not_answered_yet_counts_against_an_answer() -> None:
    limiter, _ = bucket(rate=10, burst=200)
    _, earlier = limiter.take_ticket()
    limiter.take()  # sent, no answer yet: ARM may count it after `earlier`
    limiter.learn(190, earlier)  # another writer spent 9
    assert limiter.available == pytest.approx(190 - 1)


@pytest.mark.parametrize("follow", [True, False])
def test_a_second_writer_draining_the_bucket_slows_arcwave_instead_of_drawing_429s(
    follow: bool,
) -> None:
    clock = FakeClock()
    limiter = TokenBucket(10, 200, clock=clock, sleep=clock.sleep)
    arm = ArmBucket(clock)
    for _ in range(20):
        write(limiter, arm, follow=follow)
    for _ in range(150):
        assert arm.admit() is not None  # another writer on the same subscription
    for _ in range(100):
        write(limiter, arm, follow=follow)
    if follow:
        assert arm.throttled == 0
        # ARM had 30 left: the rest came at its refill rate.
        assert clock.now == pytest.approx((100 - 30) / 10, abs=0.2)
    else:
        assert arm.throttled > 0  # what the answers spare arcwave


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
