"""arcwave's metrics: the instruments of the `arcwave` meter and what records into them.

Attributes stay few and bounded (state, reason, track, method, outcome, provider, gate): a
rollout id never goes on a metric, only on spans.
"""

import functools
from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, MeterProvider

from shared.telemetry import names
from shared.telemetry.providers import meter_provider

SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
"""Latency buckets of the ARM and webhook histograms (seconds)."""
GATE_BUCKETS = (1, 10, 60, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600)
"""Gate buckets: a soak or an approval takes minutes to days."""


@dataclass(frozen=True)
class Instruments:
    rollouts: Counter
    cluster_transitions: Counter
    arm_writes: Counter
    arm_throttled: Counter
    arm_duration: Histogram
    webhook_duration: Histogram
    gate_duration: Histogram


@functools.lru_cache(maxsize=4)
def _instruments(provider: MeterProvider | None) -> Instruments:
    meter = metrics.get_meter(names.SCOPE, meter_provider=provider)
    return Instruments(
        rollouts=meter.create_counter(
            names.ROLLOUTS, "{rollout}", "Rollouts recorded entering a state, by state and reason"
        ),
        cluster_transitions=meter.create_counter(
            names.CLUSTER_TRANSITIONS,
            "{cluster}",
            "Cluster records saved in a state, by state and reason",
        ),
        arm_writes=meter.create_counter(
            names.ARM_WRITES, "{request}", "ARM writes (PUT, PATCH, DELETE) sent, by outcome"
        ),
        arm_throttled=meter.create_counter(
            names.ARM_THROTTLED, "{request}", "ARM and Resource Graph calls answered 429"
        ),
        arm_duration=meter.create_histogram(
            names.ARM_DURATION,
            "s",
            "Duration of one ARM or Resource Graph call",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        ),
        webhook_duration=meter.create_histogram(
            names.WEBHOOK_DURATION,
            "s",
            "Time to answer a delivery (Git webhook, Flux event, Event Grid event)",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        ),
        gate_duration=meter.create_histogram(
            names.GATE_DURATION,
            "s",
            "How long a wave waited at a gate (soak, approval)",
            explicit_bucket_boundaries_advisory=GATE_BUCKETS,
        ),
    )


def instruments() -> Instruments:
    """The instruments of the meter provider in use (the global one unless a test set one)."""
    return _instruments(meter_provider())


def rollout_state(state: str, reason: str, track: str) -> None:
    """A rollout was recorded entering `state` (once per state change: retries do not count)."""
    instruments().rollouts.add(1, {names.STATE: state, names.REASON: reason, names.TRACK: track})


def cluster_saved(state: str, reason: str | None, track: str, count: int = 1) -> None:
    """`count` cluster records of `track` were saved in `state` for `reason`."""
    instruments().cluster_transitions.add(
        count, {names.STATE: state, names.REASON: reason or "", names.TRACK: track}
    )


def gate_waited(gate: str, seconds: float, track: str, wave: str) -> None:
    """A wave spent `seconds` at a gate (`soak`, `approval`)."""
    instruments().gate_duration.record(
        max(seconds, 0.0), {names.GATE: gate, names.TRACK: track, names.WAVE: wave}
    )


def webhook_answered(provider: str, outcome: str, status: int | None, seconds: float) -> None:
    attributes: dict[str, str | int] = {names.PROVIDER: provider, names.OUTCOME: outcome}
    if status is not None:
        attributes[names.HTTP_STATUS] = status
    instruments().webhook_duration.record(seconds, attributes)


WRITES = frozenset({"PUT", "PATCH", "DELETE"})


def arm_called(
    method: str, operation: str, outcome: str, status: int | None, seconds: float
) -> None:
    """One ARM or Resource Graph call ended: its duration; a write counted by outcome; a 429
    counted as throttled."""
    attributes: dict[str, str | int] = {
        names.HTTP_METHOD: method,
        names.ARM_OPERATION: operation,
        names.OUTCOME: outcome,
    }
    if status is not None:
        attributes[names.HTTP_STATUS] = status
    found = instruments()
    found.arm_duration.record(seconds, attributes)
    if method in WRITES:
        found.arm_writes.add(1, attributes)
    if status == 429:
        found.arm_throttled.add(1, {names.HTTP_METHOD: method, names.ARM_OPERATION: operation})
