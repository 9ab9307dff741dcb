import pytest

from shared.gates import judge
from shared.quantities import CountOrPercent
from shared.reasons import Reason


def budget(value: object) -> CountOrPercent:
    return CountOrPercent.parse(value)


def test_all_healthy_passes() -> None:
    verdict = judge({"Healthy": 4}, budget(0))
    assert verdict.passed and verdict.reason is Reason.WAVE_SUCCEEDED
    assert verdict.message == "4 of 4 clusters healthy"


def test_failures_within_the_count_budget_pass_and_are_counted() -> None:
    verdict = judge({"Healthy": 9, "Failed": 1}, budget(1))
    assert verdict.passed
    assert (verdict.failed, verdict.allowed, verdict.total) == (1, 1, 10)
    assert "1 failed within budget 1" in verdict.message


def test_one_over_the_budget_fails() -> None:
    verdict = judge({"Healthy": 8, "Failed": 2}, budget(1))
    assert not verdict.passed
    assert verdict.reason is Reason.FAILURE_BUDGET_EXCEEDED
    assert verdict.message == "2 of 10 clusters failed, budget 1 allows 1"


@pytest.mark.parametrize(
    ("counts", "percent", "passed"),
    [
        ({"Healthy": 19, "Failed": 1}, "5%", True),
        ({"Healthy": 18, "Failed": 2}, "5%", False),
        ({"Healthy": 4, "Failed": 1}, "10%", False),  # 10% of 5 rounds down to 0
        ({"Healthy": 0, "Failed": 3}, "100%", True),
    ],
)
def test_percent_budgets_round_down(counts: dict[str, int], percent: str, passed: bool) -> None:
    assert judge(counts, budget(percent)).passed is passed


def test_skipped_clusters_are_not_failures() -> None:
    verdict = judge({"Healthy": 3, "Skipped": 2}, budget(0))
    assert verdict.passed
    assert verdict.message == "3 of 5 clusters healthy, 2 skipped offline"


def test_rollback_failures_count_as_failures() -> None:
    assert not judge({"RollbackFailed": 1, "Healthy": 1}, budget(0)).passed


def test_an_empty_wave_passes() -> None:
    assert judge({}, budget(0)).passed


def test_the_verdict_says_why_clusters_failed_most_common_first() -> None:
    counts = {"Healthy": 7, "Failed": 3}
    failures = {"ProgressDeadlineExceeded": 1, "SourceAuthenticationFailed": 2}
    failed = judge(counts, CountOrPercent.parse(0), failures)
    assert failed.message == (
        "3 of 10 clusters failed (2 SourceAuthenticationFailed, 1 ProgressDeadlineExceeded), "
        "budget 0 allows 0"
    )
    passed = judge(counts, CountOrPercent.parse(3), failures)
    assert "3 failed (2 SourceAuthenticationFailed, 1 ProgressDeadlineExceeded) within" in (
        passed.message
    )
