"""The metric gate verdict: aggregates, thresholds, the baseline comparison and its minimum
sample, checked against an independent reading of docs/gates.md, for any values."""

import math
import statistics
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.metricgates import GateOutcome, aggregate, evaluate, no_answer, ratio_of
from shared.reasons import Reason
from shared.trackspec import Aggregate, MetricGate

ENDPOINT = "https://ws.westeurope.prometheus.monitor.azure.com"
values_strategy = st.lists(
    st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=1, max_size=12
)


def gate(**fields: Any) -> MetricGate:
    data: dict[str, Any] = {
        "name": "error-rate",
        "prometheus": {"queryEndpoint": ENDPOINT, "query": "avg by (cluster) (errors)"},
    }
    data.update(fields)
    return MetricGate.model_validate(data)


def fleet(
    updated: list[float], baseline: list[float]
) -> tuple[dict[str, float], list[str], list[str]]:
    """Values by cluster id, the updated ids and the baseline ids."""
    up = [f"/subscriptions/s/resourceGroups/rg/providers/x/u{i}" for i in range(len(updated))]
    base = [f"/subscriptions/s/resourceGroups/rg/providers/x/b{i}" for i in range(len(baseline))]
    return dict(zip(up + base, updated + baseline, strict=True)), up, base


def expected(values: list[float], how: Aggregate) -> float:
    if how is Aggregate.MAX:
        return max(values)
    if how is Aggregate.MEDIAN:
        return statistics.median(values)
    return statistics.fmean(values)


@given(values_strategy, st.sampled_from(list(Aggregate)))
def test_the_aggregate_is_what_it_names_and_lies_within_the_values(
    values: list[float], how: Aggregate
) -> None:
    result = aggregate(values, how)
    assert result == pytest.approx(expected(values, how), rel=1e-12, abs=1e-12)
    assert min(values) - 1e-9 <= result <= max(values) + 1e-9


@given(
    values_strategy,
    st.sampled_from(list(Aggregate)),
    st.floats(min_value=0, max_value=1000),
    st.floats(min_value=0, max_value=1000),
)
def test_a_threshold_fails_exactly_when_the_aggregate_is_outside_it(
    updated: list[float], how: Aggregate, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    values, up, base = fleet(updated, [])
    verdict = evaluate(
        gate(aggregate=how.value, threshold={"min": low, "max": high}), values, up, base
    )
    value = aggregate(updated, how)
    outside = value > high or value < low
    assert verdict.outcome is (GateOutcome.FAILED if outside else GateOutcome.PASSED)
    assert verdict.reason is (Reason.METRIC_GATE_FAILED if outside else Reason.METRIC_GATE_PASSED)
    assert verdict.updated is not None and verdict.updated.clusters == len(updated)
    assert verdict.baseline is None


@given(
    values_strategy,
    values_strategy,
    st.floats(min_value=0.1, max_value=20),
    st.integers(min_value=1, max_value=6),
)
def test_the_ratio_fails_exactly_above_its_bound_given_enough_clusters(
    updated: list[float], baseline: list[float], bound: float, min_sample: int
) -> None:
    values, up, base = fleet(updated, baseline)
    mine, theirs = statistics.fmean(updated), statistics.fmean(baseline)
    ratio = mine / theirs if theirs > 0 else (math.inf if mine > theirs else 1.0)
    assume(math.isinf(ratio) or abs(ratio - bound) > 1e-9 * max(1.0, bound))
    verdict = evaluate(
        gate(baseline={"maxRatio": bound, "minSample": min_sample}), values, up, base
    )
    if len(updated) < min_sample or len(baseline) < min_sample:
        assert verdict.outcome is GateOutcome.SKIPPED
        assert verdict.baseline is None and verdict.ratio is None
        assert "baseline comparison skipped" in verdict.warnings[0]
        assert f"minSample {min_sample}" in verdict.message
        return
    assert verdict.outcome is (GateOutcome.FAILED if ratio > bound else GateOutcome.PASSED)
    assert verdict.baseline is not None and verdict.baseline.clusters == len(baseline)
    assert verdict.ratio == pytest.approx(ratio, rel=1e-9)
    assert verdict.warnings == []


@given(values_strategy, values_strategy, st.floats(min_value=0, max_value=100))
def test_the_increase_fails_exactly_above_its_bound(
    updated: list[float], baseline: list[float], bound: float
) -> None:
    values, up, base = fleet(updated, baseline)
    difference = max(updated) - max(baseline)
    assume(abs(difference - bound) > 1e-9)
    verdict = evaluate(
        gate(aggregate="max", baseline={"maxIncrease": bound, "minSample": 1}), values, up, base
    )
    assert verdict.outcome is (GateOutcome.FAILED if difference > bound else GateOutcome.PASSED)
    assert verdict.difference == pytest.approx(difference)


@given(values_strategy, values_strategy, st.lists(st.floats(allow_nan=False), max_size=5))
def test_values_of_other_clusters_change_nothing(
    updated: list[float], baseline: list[float], others: list[float]
) -> None:
    values, up, base = fleet(updated, baseline)
    noisy = values | {f"/subscriptions/s/other/{i}": v for i, v in enumerate(others)}
    spec = gate(threshold={"max": 10}, baseline={"maxRatio": 2, "minSample": 1})
    assert evaluate(spec, noisy, up, base) == evaluate(spec, values, up, base)


def test_the_message_has_the_numbers() -> None:
    values, up, base = fleet([0.2, 0.2, 0.2], [0.01] * 8)
    verdict = evaluate(gate(baseline={"maxRatio": 1.5, "minSample": 3}), values, up, base)
    assert verdict.message == (
        "error-rate: updated mean 0.200 (3 clusters) vs baseline 0.010 (8 clusters): "
        "ratio 20.0 above 1.5"
    )
    assert verdict.ratio == pytest.approx(20.0)
    assert verdict.updated is not None and verdict.baseline is not None
    assert (verdict.updated.aggregate, verdict.updated.clusters) == (pytest.approx(0.2), 3)
    assert (verdict.baseline.aggregate, verdict.baseline.clusters) == (pytest.approx(0.01), 8)


def test_a_passing_gate_says_what_held_and_what_was_not_checked() -> None:
    values, up, base = fleet([0.012, 0.012], [0.01] * 4)
    verdict = evaluate(
        gate(threshold={"max": 0.05}, baseline={"maxRatio": 1.5, "minSample": 3}), values, up, base
    )
    assert verdict.outcome is GateOutcome.PASSED
    assert verdict.message == (
        "error-rate: updated mean 0.012 (2 clusters): within max 0.05; baseline comparison "
        "skipped: 2 updated and 4 baseline clusters reported, minSample 3"
    )


def test_clusters_match_ignoring_case_and_missing_values_are_counted() -> None:
    values, up, base = fleet([0.2, 0.2], [0.1, 0.1])
    shouted = {k.upper(): v for k, v in values.items()}
    verdict = evaluate(
        gate(baseline={"maxIncrease": 0.5, "minSample": 1}),
        shouted,
        [*up, "/subscriptions/s/silent"],
        base,
    )
    assert verdict.outcome is GateOutcome.PASSED
    assert verdict.updated is not None and (verdict.updated.clusters, verdict.updated.of) == (2, 3)
    assert "(2 of 3 clusters)" in verdict.message


def test_a_baseline_of_zero_makes_any_increase_an_infinite_ratio() -> None:
    assert ratio_of(0.1, 0.0) == math.inf
    assert ratio_of(0.0, 0.0) == 1.0
    values, up, base = fleet([0.1], [0.0])
    verdict = evaluate(gate(baseline={"maxRatio": 100, "minSample": 1}), values, up, base)
    assert verdict.outcome is GateOutcome.FAILED
    assert "ratio ∞ above 100" in verdict.message


@pytest.mark.parametrize(
    ("on_error", "outcome", "tail"),
    [
        ("fail", GateOutcome.FAILED, " (onError: fail)"),
        ("ignore", GateOutcome.SKIPPED, "; ignored (onError: ignore)"),
    ],
)
def test_no_value_for_the_wave_follows_on_error(
    on_error: str, outcome: GateOutcome, tail: str
) -> None:
    spec = gate(threshold={"max": 1}, onError=on_error)
    verdict = evaluate(spec, {"/subscriptions/s/other": 0.5}, ["/subscriptions/s/u0"], [])
    assert verdict.outcome is outcome
    assert verdict.message == f"error-rate: no value for any of the wave's 1 updated cluster{tail}"
    assert verdict.passed is (outcome is not GateOutcome.FAILED)
    failed = no_answer(spec, "query failed: answered 503")
    assert failed.outcome is outcome
