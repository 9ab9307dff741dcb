"""The small steps every orchestrator takes: write a step down, read or wait for the control
block.

Everything here is deterministic: time comes from the context, waits are durable timers,
and every effect is a yielded activity call.
"""

from datetime import datetime, timedelta

from orchestrators import retry
from orchestrators.listener import Listener, Step
from shared.contracts.activities import READ_CONTROL, RECORD, Control, ProgressRecord, RolloutRef
from shared.contracts.orchestrations import CONTROL_EVENT, RetryPolicy

IDLE_WAIT = timedelta(hours=1)
"""How long a paused rollout sleeps between looks at its control when no event wakes it."""


def record(listener: Listener, step: ProgressRecord, policy: RetryPolicy) -> Step:
    """Write one step of a rollout down; returns the rollout's control block."""
    control: Control = yield from retry.call(listener, RECORD, step, policy)
    return control


def wait_for_control(
    listener: Listener, ref: RolloutRef, policy: RetryPolicy, until: datetime | None = None
) -> Step:
    """Sleep until an operator changes something (or `until`); the fresh control block, or
    None when `until` passed first."""
    listener.take(CONTROL_EVENT)
    wake = until or listener.context.current_utc_datetime + IDLE_WAIT
    woke = yield from listener.sleep(wake, wake_on=(CONTROL_EVENT,))
    if not woke and until is not None:
        return None
    control: Control = yield from read_control(listener, ref, policy)
    return control


def read_control(listener: Listener, ref: RolloutRef, policy: RetryPolicy) -> Step:
    control: Control = yield from retry.call(listener, READ_CONTROL, ref, policy)
    return control
