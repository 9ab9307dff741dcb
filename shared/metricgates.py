"""Metric gates' verdicts: a wave's updated clusters against a threshold and against the
rollout's clusters still on the previous revision (docs/gates.md).

Given one value per cluster (`shared.adapters.monitor`), a gate

- aggregates the values of the wave's **updated** clusters (mean, max or median); no value
  for any of them is an error, which `onError` turns into a failure or a skipped gate;
- checks the aggregate against `threshold` (`max` and/or `min`);
- compares it with the same aggregate over the **baseline** (the rollout's clusters not yet
  written, in later waves) when both sides have at least `baseline.minSample` values:
  `maxRatio` bounds updated / baseline, `maxIncrease` bounds updated - baseline. Too small a
  sample skips the comparison with a warning in the message, whatever `onError` says: the
  last wave never has a baseline, and a small canary is a choice, not an error. A gate with
  no threshold and a skipped comparison checked nothing: it is Skipped.

When the baseline's aggregate is 0 (or below), any increase is an infinite ratio, so
`maxRatio` suits metrics that are never negative (rates, ratios, counts); use `maxIncrease`
for the others. Everything here is pure: no clock, no I/O.
"""

import math
import statistics
from collections.abc import Iterable, Mapping
from enum import StrEnum

from pydantic import Field

from shared.reasons import Reason
from shared.trackspec.gates import Aggregate, MetricGate, OnError
from shared.wire import WireModel


class GateOutcome(StrEnum):
    PASSED = "Passed"
    FAILED = "Failed"
    SKIPPED = "Skipped"

    @property
    def reason(self) -> Reason:
        return {
            GateOutcome.PASSED: Reason.METRIC_GATE_PASSED,
            GateOutcome.FAILED: Reason.METRIC_GATE_FAILED,
            GateOutcome.SKIPPED: Reason.METRIC_GATE_SKIPPED,
        }[self]


class Side(WireModel):
    """One side of a comparison: the aggregate of the values found, and how many."""

    aggregate: float
    clusters: int = Field(ge=0)
    """Clusters with a value."""
    of: int = Field(ge=0)
    """Clusters asked about."""


class GateVerdict(WireModel):
    """One gate's verdict on one wave, with the numbers behind it."""

    gate: str
    outcome: GateOutcome
    message: str
    updated: Side | None = None
    baseline: Side | None = None
    ratio: float | None = None
    difference: float | None = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def reason(self) -> Reason:
        return self.outcome.reason

    @property
    def passed(self) -> bool:
        """Whether the wave may go on (a skipped gate does not stop it)."""
        return self.outcome is not GateOutcome.FAILED


def aggregate(values: Iterable[float], how: Aggregate) -> float:
    """`values` (at least one) reduced as `how` says."""
    items = list(values)
    if how is Aggregate.MAX:
        return max(items)
    if how is Aggregate.MEDIAN:
        return float(statistics.median(items))
    return math.fsum(items) / len(items)


def ratio_of(updated: float, baseline: float) -> float:
    """updated / baseline; infinite for any increase over a baseline of 0 or below."""
    if baseline > 0:
        return updated / baseline
    return math.inf if updated > baseline else 1.0


def number(value: float) -> str:
    """`0.200`, `12.500`, `1.23e+06`, `∞`: three decimals where they read well."""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0 or 0.001 <= abs(value) < 10_000:
        return f"{value:.3f}"
    return f"{value:.3g}"


def beside(value: float, bound: float) -> str:
    """`value` with enough decimals (at least one) to tell it from `bound`."""
    if math.isinf(value):
        return number(value)
    for decimals in range(1, 7):
        text = f"{value:.{decimals}f}"
        if float(text) != bound:
            return text
    return f"{value:.6g}"


def _values(values: Mapping[str, float], clusters: Iterable[str]) -> tuple[list[float], int]:
    """The finite values of `clusters` (ids matched ignoring case) and how many were asked."""
    by_id = {k.lower(): v for k, v in values.items()}
    asked = list(dict.fromkeys(c.lower() for c in clusters))
    found = [by_id[c] for c in asked if c in by_id and math.isfinite(by_id[c])]
    return found, len(asked)


def _count(found: int, asked: int) -> str:
    noun = "cluster" if asked == 1 else "clusters"
    return f"{found} {noun}" if found == asked else f"{found} of {asked} {noun}"


def evaluate(
    gate: MetricGate,
    values: Mapping[str, float],
    updated: Iterable[str],
    baseline: Iterable[str],
) -> GateVerdict:
    """The gate's verdict on a wave: `values` by cluster id, `updated` the wave's clusters on
    the new revision, `baseline` the rollout's clusters still on the previous one."""
    found, asked = _values(values, updated)
    if not found:
        noun = "cluster" if asked == 1 else "clusters"
        return no_answer(gate, f"no value for any of the wave's {asked} updated {noun}")
    how = gate.aggregate.value
    mine = Side(aggregate=aggregate(found, gate.aggregate), clusters=len(found), of=asked)
    head = f"{gate.name}: updated {how} {number(mine.aggregate)} ({_count(len(found), asked)})"
    failures: list[str] = []
    passes: list[str] = []
    warnings: list[str] = []
    if gate.threshold is not None:
        top, bottom = gate.threshold.max, gate.threshold.min
        if top is not None:
            if mine.aggregate > top:
                failures.append(f"above max {top:g}")
            else:
                passes.append(f"within max {top:g}")
        if bottom is not None:
            if mine.aggregate < bottom:
                failures.append(f"below min {bottom:g}")
            else:
                passes.append(f"within min {bottom:g}")
    theirs: Side | None = None
    ratio = difference = None
    if gate.baseline is not None:
        base_found, base_asked = _values(values, baseline)
        need = gate.baseline.min_sample
        if len(found) < need or len(base_found) < need:
            warnings.append(
                f"baseline comparison skipped: {len(found)} updated and {len(base_found)} "
                f"baseline clusters reported, minSample {need}"
            )
        else:
            theirs = Side(
                aggregate=aggregate(base_found, gate.aggregate),
                clusters=len(base_found),
                of=base_asked,
            )
            head += (
                f" vs baseline {number(theirs.aggregate)} ({_count(len(base_found), base_asked)})"
            )
            if gate.baseline.max_ratio is not None:
                bound = gate.baseline.max_ratio
                ratio = ratio_of(mine.aggregate, theirs.aggregate)
                shown = f"ratio {beside(ratio, bound)}"
                (failures if ratio > bound else passes).append(
                    f"{shown} above {bound:g}" if ratio > bound else f"{shown} within {bound:g}"
                )
            else:
                bound = gate.baseline.max_increase or 0.0
                difference = mine.aggregate - theirs.aggregate
                shown = f"increase {beside(difference, bound)}"
                (failures if difference > bound else passes).append(
                    f"{shown} above {bound:g}"
                    if difference > bound
                    else f"{shown} within {bound:g}"
                )
    if failures:
        outcome = GateOutcome.FAILED
        findings = failures
    elif passes:
        outcome = GateOutcome.PASSED
        findings = passes
    else:
        outcome = GateOutcome.SKIPPED
        findings = ["not judged"]
    message = f"{head}: {', '.join(findings)}" + "".join(f"; {w}" for w in warnings)
    return GateVerdict(
        gate=gate.name,
        outcome=outcome,
        message=message,
        updated=mine,
        baseline=theirs,
        ratio=ratio,
        difference=difference,
        warnings=warnings,
    )


def no_answer(gate: MetricGate, why: str) -> GateVerdict:
    """The verdict when the query failed or answered nothing for the wave: `onError` says
    whether that fails the wave or is skipped with a warning."""
    if gate.on_error is OnError.FAIL:
        return GateVerdict(
            gate=gate.name,
            outcome=GateOutcome.FAILED,
            message=f"{gate.name}: {why} (onError: fail)",
        )
    return GateVerdict(
        gate=gate.name,
        outcome=GateOutcome.SKIPPED,
        message=f"{gate.name}: {why}; ignored (onError: ignore)",
        warnings=[why],
    )
