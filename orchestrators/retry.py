"""Steps that ride out outages: activity calls retried with exponential backoff, in durable time.

The Python Durable SDK's `RetryOptions` knows only a first interval and an attempt count (no
backoff, no cap, no horizon), so arcwave retries in the orchestrator itself: a failed attempt
waits on a durable timer (first interval, doubling up to a cap) and tries again, until the
horizon since the first attempt would be passed. Then — or at once when the activity says its
error is permanent — the step raises `StepFailed`, which names the step and the last error, and
the rollout ends `Failed` with reason `StepFailed`.

History per step stays bounded: a 30-minute horizon with a 2-minute cap is about 20 attempts.
"""

from datetime import timedelta
from typing import Any

from orchestrators.listener import Listener, Step
from shared.contracts.activities import ATTEMPT, NON_RETRYABLE
from shared.contracts.orchestrations import RetryPolicy, failure_text

DEFAULT_RETRY = RetryPolicy(firstSeconds=5.0, maxIntervalSeconds=120.0, horizonSeconds=1800.0)


class StepFailed(Exception):
    """A step of a rollout failed for good: retries ran out, or the error is permanent."""

    def __init__(self, step: str, error: str, *, attempts: int = 1, scope: str = "") -> None:
        self.step = step
        self.error = error
        self.attempts = attempts
        self.scope = scope
        where = f" ({scope})" if scope else ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"step '{step}'{where} failed{tries}: {error}")

    @classmethod
    def relayed(cls, text: str) -> "StepFailed":
        """A failure a sub-orchestration reported as text (already worded by `StepFailed`)."""
        failure = cls("", text)
        failure.args = (text,)
        return failure

    def __str__(self) -> str:
        return str(self.args[0])


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    return float(min(policy["firstSeconds"] * 2 ** (attempt - 1), policy["maxIntervalSeconds"]))


def attempted(payload: Any, attempt: int) -> Any:
    """`payload` of a retried call, saying which attempt it is (for the activity's span); the
    first attempt's payload as given."""
    if attempt > 1 and isinstance(payload, dict):
        return {**payload, ATTEMPT: attempt}
    return payload


def call(
    listener: Listener, activity: str, payload: Any, policy: RetryPolicy, *, scope: str = ""
) -> Step:
    """Run `activity` until it succeeds; its result, or `StepFailed`."""
    context = listener.context
    started = context.current_utc_datetime
    attempt = 0
    while True:
        attempt += 1
        task = context.call_activity(activity, attempted(payload, attempt))
        try:
            result = yield from listener.call(task)
        except Exception as failure:
            error = failure_text(failure)
            if f"{NON_RETRYABLE}:" in str(failure):
                raise StepFailed(activity, error, attempts=attempt, scope=scope) from None
            wake = context.current_utc_datetime + timedelta(seconds=backoff(policy, attempt))
            if (wake - started).total_seconds() > policy["horizonSeconds"]:
                raise StepFailed(activity, error, attempts=attempt, scope=scope) from None
            yield from listener.sleep(wake, wake_on=())
            continue
        return result
