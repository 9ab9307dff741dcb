"""Metric gates from the outside: the app under devhost, the emulator as Azure (ARM, Resource
Graph, managed Prometheus, Log Analytics), everything through the public HTTP API.

The acceptance scenario: a commit that Flux applies cleanly everywhere but that raises the
emulated error rate where it runs fails the canary on the baseline comparison (reason
MetricGateFailed, the numbers in the message), is rolled back, and is never written to a
cluster of a later wave; with a tolerant gate the same commit goes through. Then a query that
fails, under each onError policy.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from rollout_support import GOOD, GOOD2, GOOD3, Stack, api, running_stack, track_spec

from shared.states import RolloutState

pytestmark = pytest.mark.e2e

NOISY = "bad1c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
"""Flux-compliant on every cluster, but the error rate goes up wherever it runs."""
WORKSPACE = "4f1e0f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
MONITOR = {
    "metrics": {"http_error_ratio": {"default": 0.01, "byCommit": {"bad1": 0.2}, "jitter": 0.001}},
    "workspaces": [WORKSPACE],
}
VERDICT = re.compile(
    r"error-rate: updated mean 0\.(199|200|201) \(2 clusters\) vs baseline "
    r"0\.0(09|10|11) \(10 clusters\): ratio (\d+\.\d) above 1\.5"
)


def put_track(stack: Stack, gate: dict[str, Any]) -> None:
    spec = track_spec(metricGates=[gate])
    spec["waves"][0]["metricGates"] = [gate["name"]]
    code, body = api(stack, "PUT", "tracks/baseline", spec)
    assert code in (200, 201), body


def prometheus_gate(stack: Stack, **fields: Any) -> dict[str, Any]:
    gate: dict[str, Any] = {
        "name": "error-rate",
        "prometheus": {
            "queryEndpoint": stack.emulator.prometheus_endpoint,
            "query": "avg by (cluster) (http_error_ratio)",
        },
        "baseline": {"maxRatio": 1.5, "minSample": 2},
    }
    gate.update(fields)
    return gate


def logs_gate(**fields: Any) -> dict[str, Any]:
    gate: dict[str, Any] = {
        "name": "error-rate",
        "logAnalytics": {
            "workspaceId": WORKSPACE,
            "query": 'InsightsMetrics | where Name == "http_error_ratio" '
            "| summarize Val=avg(Val) by _ResourceId",
            "timespan": "PT15M",
        },
        "threshold": {"max": 0.05},
        "baseline": {"maxRatio": 1.5, "minSample": 2},
    }
    gate.update(fields)
    return gate


def roll(stack: Stack, revision: str, *states: RolloutState) -> dict[str, Any]:
    """Start a rollout through the API and wait for one of `states`; its detail."""
    code, handed = api(stack, "POST", "tracks/baseline/rollouts", {"revision": revision})
    assert code == 202, handed
    rollout_id = str(handed["rolloutId"])
    stack.wait_state(rollout_id, *states, timeout=180)
    code, detail = api(stack, "GET", f"rollouts/{rollout_id}")
    assert code == 200, detail
    return dict(detail)


def gate_verdicts(stack: Stack, rollout_id: str) -> list[dict[str, Any]]:
    code, body = api(stack, "GET", f"rollouts/{rollout_id}/timeline")
    assert code == 200, body
    return [e for e in body["timeline"] if "gate" in e["data"]]


def test_a_commit_that_raises_the_error_rate_fails_the_canary_and_rolls_back(
    tmp_path: Path,
) -> None:
    with running_stack(tmp_path, monitor=MONITOR) as stack:
        put_track(stack, prometheus_gate(stack))
        first = roll(stack, GOOD, RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
        assert first["state"] == "Succeeded", first["message"]
        assert first["waves"][0]["gates"]["metricGates"] == ["error-rate"]
        [passed] = gate_verdicts(stack, first["id"])
        assert (passed["reason"], passed["data"]["phase"]) == ("MetricGatePassed", "applied")

        noisy = roll(stack, NOISY, RolloutState.ROLLED_BACK, RolloutState.SUCCEEDED)
        assert noisy["state"] == "RolledBack", noisy["message"]
        found = VERDICT.search(noisy["message"])
        assert found, noisy["message"]
        assert float(found.group(3)) > 15
        assert noisy["message"].startswith("wave 'canary' failed: error-rate: updated mean")
        [verdict] = gate_verdicts(stack, noisy["id"])
        assert verdict["reason"] == "MetricGateFailed"
        assert VERDICT.fullmatch(verdict["message"]), verdict["message"]
        assert (
            verdict["data"]["updated"]["clusters"],
            verdict["data"]["baseline"]["clusters"],
        ) == (
            2,
            10,
        )
        waves = {w["name"]: w["state"] for w in noisy["waves"]}
        assert waves == {"canary": "RolledBack", "early": "Pending", "broad": "Pending"}
        noisy_writes = {w["cluster"] for w in stack.writes() if w["commit"] == NOISY}
        assert noisy_writes == {"canary-1", "canary-2"}
        restored = {s["cluster"]: s["revision"] for s in stack.emulator.control.series()}
        assert restored["canary-1"] == restored["canary-2"] == GOOD

        put_track(stack, prometheus_gate(stack, baseline={"maxRatio": 50, "minSample": 2}))
        tolerated = roll(stack, NOISY, RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
        assert tolerated["state"] == "Succeeded", tolerated["message"]
        [allowed] = gate_verdicts(stack, tolerated["id"])
        assert allowed["reason"] == "MetricGatePassed"
        assert "within 50" in allowed["message"]
        reached = {w["cluster"] for w in stack.writes() if w["commit"] == NOISY}
        assert len(reached) == 12


def test_a_query_that_fails_follows_the_gates_on_error_policy(tmp_path: Path) -> None:
    with running_stack(tmp_path, monitor=MONITOR) as stack:
        stack.emulator.control.patch_monitor(
            queryFailures=[{"api": "prometheus", "status": 400, "message": "bad query"}]
        )
        put_track(stack, prometheus_gate(stack, onError="fail"))
        failed = roll(stack, GOOD, RolloutState.ROLLED_BACK, RolloutState.SUCCEEDED)
        assert failed["state"] == "RolledBack", failed["message"]
        [verdict] = gate_verdicts(stack, failed["id"])
        assert verdict["reason"] == "MetricGateFailed"
        assert verdict["message"].startswith("error-rate: query failed: Prometheus query at ")
        assert "refused (400): (bad_data) bad query" in verdict["message"]
        assert verdict["message"].endswith("(onError: fail)")
        assert not [w for w in stack.writes() if not w["cluster"].startswith("canary")]

        put_track(stack, prometheus_gate(stack, onError="ignore"))
        ignored = roll(stack, GOOD2, RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
        assert ignored["state"] == "Succeeded", ignored["message"]
        [skipped] = gate_verdicts(stack, ignored["id"])
        assert skipped["reason"] == "MetricGateSkipped"
        assert skipped["data"]["warnings"][0].startswith("query failed: Prometheus query at ")

        # The same through Log Analytics: a 403 (the app's identity may not read the workspace).
        stack.emulator.control.patch_monitor(queryFailures=[{"api": "logAnalytics", "status": 403}])
        put_track(stack, logs_gate(onError="ignore"))
        also_ignored = roll(stack, GOOD3, RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
        assert also_ignored["state"] == "Succeeded", also_ignored["message"]
        [skipped] = gate_verdicts(stack, also_ignored["id"])
        assert skipped["reason"] == "MetricGateSkipped"
        assert "grant arcwave's identity Log Analytics Reader" in skipped["message"]

        stack.emulator.control.patch_monitor(queryFailures=[])
        put_track(stack, logs_gate())
        through_logs = roll(stack, NOISY, RolloutState.ROLLED_BACK, RolloutState.SUCCEEDED)
        assert through_logs["state"] == "RolledBack", through_logs["message"]
        [verdict] = gate_verdicts(stack, through_logs["id"])
        assert verdict["reason"] == "MetricGateFailed"
        assert "above max 0.05" in verdict["message"] and "ratio" in verdict["message"]
