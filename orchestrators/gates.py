"""A wave's metric gates, as a rollout judges them: once the wave has applied (its failure
budget held) and again after its soak.

The activity queries Azure Monitor and writes each gate's verdict on the timeline; the
orchestrator only learns whether any gate failed, which ones, and the failures' message, so
its history holds names, not cluster ids. A failed gate turns the wave's verdict into a
failure with reason `MetricGateFailed` and the gate's numbers as its message; then the
rollout's `onFailure` applies as for any failed wave.
"""

from orchestrators import retry
from orchestrators.listener import Step
from orchestrators.rollout_steps import RolloutSteps
from shared.contracts.activities import (
    METRIC_GATES,
    MetricGateRequest,
    MetricGateResult,
    WaveBrief,
)
from shared.gates import Verdict
from shared.reasons import Reason

APPLIED = "applied"
"""The wave's writes settled within its failure budget."""
SOAKED = "soaked"
"""The wave stayed healthy through its soak."""


def judge_metric_gates(steps: RolloutSteps, wave: WaveBrief, phase: str, verdict: Verdict) -> Step:
    """`verdict` when the wave has no metric gates, has already failed, or every gate
    passed (or was skipped); else the failure the gates found."""
    gates = wave.get("metricGates") or []
    if not gates or not verdict.passed:
        return verdict
    name = wave["name"]
    request = MetricGateRequest(**steps.ref, wave=name, phase=phase)
    result: MetricGateResult = yield from retry.call(
        steps.listener,
        METRIC_GATES,
        request,
        steps.policy,
        scope=f"metric gates of wave '{name}'",
    )
    if result["passed"]:
        return verdict
    return verdict.model_copy(
        update={
            "passed": False,
            "reason": Reason.METRIC_GATE_FAILED,
            "message": result["message"],
        }
    )
