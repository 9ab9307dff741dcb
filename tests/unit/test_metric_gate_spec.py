"""Metric gates in the track spec: each invalid gate or reference names its field and the fix,
and a valid gate reads back as written (YAML in, camelCase out, the same spec again)."""

from datetime import timedelta
from typing import Any

import pytest

from shared.problems import InvalidInput
from shared.trackspec import Aggregate, OnError, load_track_spec, validate_track_spec

SUB = "00000000-0000-0000-0000-000000000001"
WORKSPACE = "4f1e0f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
ENDPOINT = "https://ws-abcd.westeurope.prometheus.monitor.azure.com"


def prometheus_gate(**overrides: Any) -> dict[str, Any]:
    gate: dict[str, Any] = {
        "name": "error-rate",
        "prometheus": {"queryEndpoint": ENDPOINT, "query": "avg by (cluster) (http_error_ratio)"},
        "baseline": {"maxRatio": 1.5},
    }
    gate.update(overrides)
    return gate


def logs_gate(**overrides: Any) -> dict[str, Any]:
    gate: dict[str, Any] = {
        "name": "restarts",
        "logAnalytics": {
            "workspaceId": WORKSPACE,
            "query": "KubePodInventory | summarize Restarts=sum(PodRestartCount) by ClusterId",
        },
        "threshold": {"max": 3},
    }
    gate.update(overrides)
    return gate


def spec(gates: list[dict[str, Any]], named: list[list[str]] | None = None) -> dict[str, Any]:
    named = named if named is not None else [[g["name"] for g in gates], []]
    return {
        "name": "apps",
        "source": {"url": "https://github.com/contoso/apps", "branch": "main"},
        "configuration": {"name": "apps", "kustomizations": {"apps": {"path": "./apps"}}},
        "fleet": {"subscriptions": [SUB]},
        "metricGates": gates,
        "waves": [
            {"name": "canary", "selector": {"ring": "canary"}, "metricGates": named[0]},
            {"name": "rest", "metricGates": named[1]},
        ],
    }


def problems(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    with pytest.raises(InvalidInput) as error:
        validate_track_spec(data)
    return {p.loc: (p.type, p.msg) for p in error.value.problems}


def test_a_gate_of_each_kind_reads_back_as_written() -> None:
    parsed = load_track_spec(
        f"""
name: apps
source: {{url: https://github.com/contoso/apps, branch: main}}
configuration: {{name: apps, kustomizations: {{apps: {{path: ./apps}}}}}}
fleet: {{subscriptions: [{SUB}]}}
metricGates:
  - name: error-rate
    prometheus: {{queryEndpoint: "{ENDPOINT}/", query: 'avg by (cluster) (http_error_ratio)'}}
    aggregate: median
    threshold: {{max: 0.05}}
    baseline: {{maxRatio: 1.5, minSample: 2}}
  - name: restarts
    logAnalytics:
      workspaceId: {WORKSPACE}
      query: InsightsMetrics | summarize Val=avg(Val) by _ResourceId
      timespan: PT30M
      valueColumn: Val
    baseline: {{maxIncrease: 0.02}}
    onError: ignore
waves:
  - {{name: canary, selector: {{ring: canary}}, metricGates: [error-rate, restarts]}}
  - {{name: rest}}
"""
    )
    first, second = parsed.metric_gates
    assert first.kind == "prometheus" and first.prometheus is not None
    assert first.prometheus.query_endpoint == ENDPOINT  # the trailing slash goes
    assert (first.aggregate, first.on_error) == (Aggregate.MEDIAN, OnError.FAIL)
    assert first.baseline is not None and first.baseline.min_sample == 2
    assert second.log_analytics is not None
    assert second.log_analytics.timespan == timedelta(minutes=30)
    assert second.baseline is not None and second.baseline.min_sample == 3  # the default
    assert parsed.waves[0].metric_gates == ["error-rate", "restarts"]
    assert parsed.waves[1].metric_gates == []
    assert parsed.metric_gate("restarts") is second
    wire = parsed.to_wire()
    assert wire["metricGates"][1]["logAnalytics"]["timespan"] == "30m"
    assert wire["waves"][0]["metricGates"] == ["error-rate", "restarts"]
    assert validate_track_spec(wire) == parsed


def test_a_wave_naming_an_unknown_gate_says_which_are_defined() -> None:
    found = problems(spec([prometheus_gate()], [["error-rate", "latency"], []]))
    assert found == {
        "waves[0].metricGates[1]": (
            "unknown_gate",
            "no metric gate named 'latency' in metricGates (defined: error-rate)",
        )
    }


def test_gate_names_are_unique_and_a_wave_lists_a_gate_once() -> None:
    found = problems(
        spec([prometheus_gate(), logs_gate(name="error-rate")], [["error-rate", "error-rate"], []])
    )
    assert found["metricGates[1].name"][0] == "duplicate"
    assert "already used by metricGates[0]" in found["metricGates[1].name"][1]
    assert found["waves[0].metricGates[1]"] == ("duplicate", "'error-rate' is listed twice")


@pytest.mark.parametrize(
    ("gate", "loc", "kind", "words"),
    [
        (
            prometheus_gate(logAnalytics=logs_gate()["logAnalytics"]),
            "metricGates[0].prometheus",
            "query_kind",
            "either prometheus (PromQL) or logAnalytics (KQL), not both",
        ),
        (
            {"name": "x", "threshold": {"max": 1}},
            "metricGates[0].prometheus",
            "query_kind",
            "not neither",
        ),
        (
            prometheus_gate(baseline=None),
            "metricGates[0].threshold",
            "bound",
            "give a threshold, a baseline or both",
        ),
        (
            prometheus_gate(baseline={"maxRatio": 1.5, "maxIncrease": 0.1}),
            "metricGates[0].baseline.maxRatio",
            "baseline",
            "either maxRatio",
        ),
        (
            prometheus_gate(baseline={"minSample": 2}),
            "metricGates[0].baseline.maxRatio",
            "baseline",
            "not neither",
        ),
        (
            prometheus_gate(baseline={"maxRatio": 1.5, "minSample": 0}),
            "metricGates[0].baseline.minSample",
            "greater_than_equal",
            "1",
        ),
        (
            prometheus_gate(baseline={"maxRatio": 0}),
            "metricGates[0].baseline.maxRatio",
            "greater_than",
            "0",
        ),
        (
            prometheus_gate(baseline={"maxIncrease": -0.1}),
            "metricGates[0].baseline.maxIncrease",
            "greater_than_equal",
            "0",
        ),
        (
            prometheus_gate(threshold={}),
            "metricGates[0].threshold.max",
            "threshold",
            "give max, min or both",
        ),
        (
            prometheus_gate(threshold={"min": 2, "max": 1}),
            "metricGates[0].threshold.min",
            "threshold",
            "min 2 is above max 1",
        ),
        (
            prometheus_gate(threshold={"max": "nan"}),
            "metricGates[0].threshold.max",
            "finite_number",
            "finite",
        ),
        (
            prometheus_gate(prometheus={"queryEndpoint": "http://ws.example", "query": "up"}),
            "metricGates[0].prometheus.queryEndpoint",
            "url",
            "is not an https URL",
        ),
        (
            prometheus_gate(prometheus={"queryEndpoint": "https://ws?x=1", "query": "up"}),
            "metricGates[0].prometheus.queryEndpoint",
            "url",
            "is not an https URL",
        ),
        (
            prometheus_gate(prometheus={"queryEndpoint": ENDPOINT, "query": "  "}),
            "metricGates[0].prometheus.query",
            "query",
            "the query is empty",
        ),
        (
            logs_gate(logAnalytics={"workspaceId": "fleet-logs", "query": "InsightsMetrics"}),
            "metricGates[0].logAnalytics.workspaceId",
            "guid",
            "give the workspace's GUID",
        ),
        (
            logs_gate(logAnalytics={"workspaceId": WORKSPACE, "query": "x", "timespan": "0s"}),
            "metricGates[0].logAnalytics.timespan",
            "duration",
            "longer than zero",
        ),
        (
            prometheus_gate(aggregate="p99"),
            "metricGates[0].aggregate",
            "enum",
            "mean",
        ),
        (
            prometheus_gate(onError="retry"),
            "metricGates[0].onError",
            "enum",
            "ignore",
        ),
        (
            prometheus_gate(name="Error_Rate"),
            "metricGates[0].name",
            "name",
            "is not a valid metric gate name",
        ),
        (
            prometheus_gate(thresold={"max": 1}),
            "metricGates[0].thresold",
            "unknown_field",
            "did you mean 'threshold'?",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("metricGates") else None,
)
def test_each_invalid_gate_names_its_field(
    gate: dict[str, Any], loc: str, kind: str, words: str
) -> None:
    found = problems(spec([gate], [[], []]))
    assert loc in found, found
    assert found[loc][0] == kind
    assert words in found[loc][1]
