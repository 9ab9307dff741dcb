"""What must hold once both rollouts ended, checked through the API and the emulator."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli.demo.scenario import TRACK_NAME, Outcome
from cli.demo.stack import Stack
from cli.demo.trace import RolloutTrace
from emulator.control_client import ControlClient
from shared.revision import short_revision


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def judge(stack: Stack, good: Outcome, bad: Outcome, head: str) -> Verdict:
    """Succeeded, then RolledBack with the canary restored and later waves never touched."""
    verdict = Verdict()
    if good.state != "Succeeded":
        verdict.problems.append(f"the good rollout ended {good.state}, not Succeeded")
    if bad.state != "RolledBack":
        verdict.problems.append(f"the bad rollout ended {bad.state}, not RolledBack")
    waves = bad.detail.get("waves") or []
    first = waves[0] if waves else {}
    canaries = {str(c.get("name")) for c in first.get("clusters") or []}
    if first.get("state") != "RolledBack":
        verdict.problems.append(f"wave {first.get('name')} is {first.get('state')}, not RolledBack")
    writes = stack.control("GET /_emulator/writes", ControlClient.writes)
    _check_bad_writes(verdict, writes, bad.commit, canaries, str(first.get("name")))
    _check_canaries_restored(stack, verdict, writes, canaries, head)
    fleet = stack.api_json("GET", f"fleet?track={TRACK_NAME}")
    good_everywhere = {c.get("lastGoodRevision") for c in fleet.get("clusters") or []}
    if good_everywhere - {head, None}:
        verdict.problems.append(f"last good revisions are {sorted(map(str, good_everywhere))}")
    return verdict


def _check_bad_writes(
    verdict: Verdict, writes: list[dict[str, Any]], bad: str, canaries: set[str], wave: str
) -> None:
    """The bad commit was written to canary clusters only."""
    bad_writes = {str(w.get("cluster")) for w in writes if w.get("commit") == bad}
    reached_later = sorted(bad_writes - canaries)
    if reached_later:
        verdict.problems.append(f"the bad commit reached later waves: {', '.join(reached_later)}")
    elif not bad_writes:
        verdict.problems.append("the bad commit was never written, not even to the canary")
    else:
        verdict.facts.append(
            f"the bad commit was written to {len(bad_writes)} cluster(s), all in wave "
            f"{wave}; no later wave received it"
        )


def _check_canaries_restored(
    stack: Stack, verdict: Verdict, writes: list[dict[str, Any]], canaries: set[str], head: str
) -> None:
    """Each canary's last write is the good commit, and Flux runs it, Compliant."""
    last: dict[str, str | None] = {}
    for write in writes:
        last[str(write.get("cluster"))] = write.get("commit")
    clusters = {
        str(c.get("name")): c
        for c in stack.control("GET /_emulator/clusters", ControlClient.clusters)
    }
    for name in sorted(canaries):
        config = (clusters.get(name, {}).get("configurations") or {}).get(TRACK_NAME) or {}
        synced = str(config.get("sourceSyncedCommitId") or "")
        compliance = config.get("complianceState")
        if last.get(name) == head and synced.endswith(head) and compliance == "Compliant":
            verdict.facts.append(f"{name}: restored to {short_revision(head)}, {compliance}")
        else:
            verdict.problems.append(
                f"{name} was not restored to {short_revision(head)}: last write "
                f"{short_revision(str(last.get(name)))}, "
                f"Flux at {synced or '-'} ({compliance})"
            )


METRICS = (
    "arcwave.rollouts",
    "arcwave.cluster.transitions",
    "arcwave.arm.writes",
    "arcwave.arm.duration",
    "arcwave.webhook.duration",
    "arcwave.gate.duration",
)
"""The metrics a demo run exports (`arcwave.arm.throttled` only when ARM answered 429)."""


def judge_trace(verdict: Verdict, trace: RolloutTrace, log: Path) -> None:
    """The first rollout is one trace, from its GitHub push to its last cluster write, and
    the metrics are exported (`arcwave demo --telemetry console`)."""
    if trace.whole and trace.push is not None and trace.last_write is not None:
        last = trace.last_write["attributes"].get("arcwave.cluster.id", "?").rsplit("/", 1)[-1]
        verdict.facts.append(
            f"rollout {trace.rollout_id} is one trace ({trace.push['context']['trace_id']}): "
            f"{trace.spans} spans from the GitHub push to its last cluster write ({last}), "
            f"printed in {log}"
        )
    elif trace.push is None or trace.last_write is None:
        verdict.problems.append(
            f"{log} holds no {'push' if trace.push is None else 'cluster write'} span of "
            f"rollout {trace.rollout_id}"
        )
    else:
        verdict.problems.append(
            f"rollout {trace.rollout_id}'s spans are in {len(trace.trace_ids)} traces, not one"
        )
    missing = [m for m in METRICS if m not in trace.metrics]
    if missing:
        verdict.problems.append(f"metrics not exported: {', '.join(missing)}")
    else:
        verdict.facts.append(f"metrics exported: {', '.join(sorted(trace.metrics))}")
