"""Gates between waves: the failure budget verdict.

A wave passes when its failures stay within `maxFailures` (a count, or a percentage of the
wave rounded down). Skipped clusters (offline under `offline: skip`) are neither failures nor
successes: catch-up takes care of them. Like Fleet Manager's update runs, the verdict keeps the
failure count next to it, so "passed" never hides clusters that failed within the budget.
"""

from collections.abc import Mapping

from pydantic import Field

from shared.quantities import CountOrPercent
from shared.reasons import Reason
from shared.states import ClusterState
from shared.wire import WireModel


class Verdict(WireModel):
    """The outcome of one wave against its failure budget."""

    passed: bool
    failed: int = Field(ge=0)
    allowed: int = Field(ge=0)
    total: int = Field(ge=0)
    reason: Reason
    message: str


def judge(
    counts: Mapping[str, int],
    max_failures: CountOrPercent,
    failures: Mapping[str, int] | None = None,
) -> Verdict:
    """Judge a wave's cluster counts (by `ClusterState` value) against its budget;
    `failures` (by `Reason` value) says why the failed ones failed."""
    why = _why(failures or {})
    total = sum(counts.values())
    failed = sum(n for state, n in counts.items() if ClusterState(state).counts_as_failure)
    skipped = counts.get(ClusterState.SKIPPED.value, 0)
    allowed = max_failures.floor_of(total)
    healthy = counts.get(ClusterState.HEALTHY.value, 0)
    tail = f", {skipped} skipped offline" if skipped else ""
    passed = failed <= allowed
    if passed:
        within = f", {failed} failed{why} within budget {max_failures}" if failed else ""
        message = f"{healthy} of {total} clusters healthy{within}{tail}"
    else:
        budget = f"budget {max_failures} allows {allowed}"
        message = f"{failed} of {total} clusters failed{why}, {budget}{tail}"
    return Verdict(
        passed=passed,
        failed=failed,
        allowed=allowed,
        total=total,
        reason=Reason.WAVE_SUCCEEDED if passed else Reason.FAILURE_BUDGET_EXCEEDED,
        message=message,
    )


def _why(failures: Mapping[str, int]) -> str:
    """` (2 HealthCheckFailed, 1 ProgressDeadlineExceeded)`, most first."""
    if not failures:
        return ""
    ranked = sorted(failures.items(), key=lambda item: (-item[1], item[0]))
    return " (" + ", ".join(f"{n} {reason}" for reason, n in ranked) + ")"
