"""check_metric_gates: run a wave's metric gates and write each verdict on the timeline.

The wave's **updated** clusters are its clusters that reached Healthy on the new revision;
the **baseline** is the rollout's clusters not written yet (later waves, still Pending on the
previous revision). Each gate's query runs through `shared.adapters.monitor` for both sets
at once, and `shared.metricgates` judges the numbers. A query that fails is not an activity
failure: the gate's `onError` decides (fail the wave, or skip with a warning).

Each verdict is a timeline entry keyed by wave, phase and gate (reason `MetricGatePassed`,
`MetricGateFailed` or `MetricGateSkipped`, the numbers in its message and data), so a retried
attempt returns the verdicts already recorded rather than asking Azure Monitor again. The
orchestrator gets names and one message: nothing that grows with the fleet.
"""

import logging
import math
from typing import Any

import azure.durable_functions as df

from shared.adapters.monitor_answers import ClusterRef
from shared.contracts.activities import METRIC_GATES, MetricGateRequest, MetricGateResult
from shared.errors import ArcwaveError
from shared.logs import fields
from shared.metricgates import GateOutcome, GateVerdict, evaluate, no_answer
from shared.runtime import Runtime, act
from shared.states import ClusterState
from shared.store import ClusterRecord
from shared.trackspec import MetricGate

log = logging.getLogger("arcwave.activities.gates")
bp = df.Blueprint()


def timeline_key(wave: str, phase: str, gate: str) -> str:
    """The timeline entry of one gate's verdict: `wave/canary/gates/applied/error-rate`."""
    return f"wave/{wave}/gates/{phase}/{gate}"


def check(rt: Runtime, req: MetricGateRequest) -> MetricGateResult:
    rollout = rt.records.rollouts.get(req["track"], req["rolloutId"])
    spec = rollout.planned_spec()
    wave = spec.wave(req["wave"])
    records = rt.records.clusters.list(req["track"], rollout=req["rolloutId"])
    updated = [r for r in records if r.wave == wave.name and r.state is ClusterState.HEALTHY]
    baseline = [r for r in records if r.wave != wave.name and r.state is ClusterState.PENDING]
    verdicts = []
    for name in wave.metric_gates:
        key = timeline_key(wave.name, req["phase"], name)
        recorded = rt.records.timeline.find(req["rolloutId"], key)
        if recorded is not None:
            verdicts.append((name, GateOutcome(recorded.data["outcome"]), recorded.message))
            continue
        verdict = judge(rt, spec.metric_gate(name), updated, baseline)
        rt.records.timeline.append(
            req["rolloutId"],
            key,
            actor="arcwave",
            reason=verdict.reason,
            message=verdict.message,
            data=_data(wave.name, req["phase"], verdict),
            time=rt.now(),
        )
        level = logging.INFO if verdict.outcome is GateOutcome.PASSED else logging.WARNING
        log.log(
            level,
            "decision %s",
            fields(
                rollout=req["rolloutId"],
                track=req["track"],
                step=key,
                reason=verdict.reason.value,
                wave=wave.name,
                message=verdict.message,
            ),
        )
        verdicts.append((name, verdict.outcome, verdict.message))
    failed = [(n, message) for n, outcome, message in verdicts if outcome is GateOutcome.FAILED]
    return MetricGateResult(
        passed=not failed,
        failed=[name for name, _ in failed],
        skipped=[name for name, outcome, _ in verdicts if outcome is GateOutcome.SKIPPED],
        message="; ".join(message for _, message in failed),
    )


def judge(
    rt: Runtime,
    gate: MetricGate,
    updated: list[ClusterRecord],
    baseline: list[ClusterRecord],
) -> GateVerdict:
    """Query the gate for both sets of clusters and judge; a failed query goes by `onError`."""
    refs = [ClusterRef(r.cluster_id, r.name) for r in [*updated, *baseline]]
    try:
        values = rt.monitor.values(gate, refs)
    except ArcwaveError as error:
        why = str(error).removeprefix(f"metric gate '{gate.name}': ")
        return no_answer(gate, f"query failed: {why}")
    return evaluate(gate, values, [r.cluster_id for r in updated], [r.cluster_id for r in baseline])


def _data(wave: str, phase: str, verdict: GateVerdict) -> dict[str, Any]:
    """What the timeline keeps of a verdict: the numbers (infinite ratios as None)."""
    wire = verdict.to_wire()

    def finite(value: Any) -> Any:
        return value if not isinstance(value, float) or math.isfinite(value) else None

    return {
        "wave": wave,
        "gate": verdict.gate,
        "phase": phase,
        "outcome": verdict.outcome.value,
        "updated": wire["updated"],
        "baseline": wire["baseline"],
        "ratio": finite(verdict.ratio),
        "difference": finite(verdict.difference),
        "warnings": verdict.warnings,
    }


@bp.activity_trigger(input_name="request", activity=METRIC_GATES)
def check_metric_gates(request: MetricGateRequest) -> MetricGateResult:
    return act(check, request, METRIC_GATES)
