"""The emulator's synthetic Azure Monitor data: series by the revision each cluster runs, the
KQL additions for Log Analytics (summarize, ago), the PromQL subset, and named errors for
what is outside them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from emulator.backend import Backend
from emulator.loganalytics.kql import compile_logs_query, kql_time
from emulator.loganalytics.tables import TABLES, TimespanError, run_logs_query, time_range
from emulator.metrics import Sample, jitter_offset, samples
from emulator.prometheus.promql import PromQLError, compile_promql
from emulator.prometheus.responses import format_value
from emulator.resourcegraph.exceptions import QueryError
from emulator.scenario import Scenario

GOOD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
NOISY = "bad1c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
WORKSPACE = "4f1e0f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def backend(**monitor: Any) -> Backend:
    scenario = Scenario.model_validate(
        {
            "clusters": [
                {"name": "canary-1", "tags": {"ring": "canary"}},
                {"name": "canary-2", "tags": {"ring": "canary"}},
                {"name": "store-1"},
                {"name": "store-2", "connectivityStatus": "Offline"},
            ],
            "flux": {"branchHeads": {"main": GOOD}, "reconcileSeconds": {"min": 0, "max": 0}},
            "arm": {"operationSeconds": 0},
            "monitor": {
                "metrics": {
                    "error_rate": {"default": 0.01, "byCommit": {"bad": 0.1, "bad1": 0.2}},
                    "latency_ms": {"default": 120, "jitter": 10},
                },
                **monitor,
            },
        }
    )
    return Backend(scenario, clock=FakeClock())


def run_on(fleet: Backend, name: str, commit: str) -> None:
    (cluster,) = fleet.clusters_named(name)
    properties = {
        "gitRepository": {
            "url": "https://github.com/org/fleet",
            "repositoryRef": {"branch": "main", "commit": commit},
        },
        "kustomizations": {"apps": {"path": "./apps"}},
    }
    fleet.put_configuration(cluster, "baseline", properties, "2023-05-01")
    fleet.reconcile_now()
    fleet.clock.now += 1  # type: ignore[attr-defined]
    fleet.reconcile_now()


def values(fleet: Backend, metric: str) -> dict[str, float]:
    return {s.cluster: s.value for s in samples(fleet, {metric})}


def test_a_cluster_reports_the_value_of_the_revision_it_runs() -> None:
    fleet = backend()
    assert values(fleet, "error_rate") == {"canary-1": 0.01, "canary-2": 0.01, "store-1": 0.01}
    run_on(fleet, "canary-1", NOISY)
    run_on(fleet, "canary-2", GOOD)
    # The longest matching prefix wins; the offline cluster sends nothing.
    assert values(fleet, "error_rate") == {"canary-1": 0.2, "canary-2": 0.01, "store-1": 0.01}
    (sample,) = [s for s in samples(fleet, {"error_rate"}) if s.cluster == "canary-1"]
    assert sample.revision == NOISY
    assert sample.cluster_id.endswith("/connectedClusters/canary-1")


def test_jitter_is_bounded_and_the_same_for_the_same_cluster_and_revision() -> None:
    fleet = backend()
    first = values(fleet, "latency_ms")
    assert values(fleet, "latency_ms") == first
    assert all(110 <= v <= 130 for v in first.values())
    assert len(set(first.values())) == 3
    assert jitter_offset(0.0, "m", "c", None) == 0.0
    assert jitter_offset(1.0, "m", "c", "r") == jitter_offset(1.0, "m", "C", "r")


@pytest.mark.parametrize(
    ("monitor", "words"),
    [
        ({"metrics": {"9lives": {"default": 1}}}, "metric name '9lives' is invalid"),
        ({"metrics": {"x": {"byCommit": {"": 1}}}}, "revision prefixes"),
        ({"metrics": {"x": {"jitter": -1}}}, "greater than or equal to 0"),
        ({"queryFailures": [{"status": 418}]}, "status must be one of"),
        ({"queryFailures": [{"partial": True}]}, "partial applies to Log Analytics only"),
        ({"workspaces": ["fleet-logs"]}, "is not a GUID"),
    ],
)
def test_a_bad_monitor_section_is_refused_naming_the_problem(
    monitor: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValidationError) as error:
        Scenario.model_validate({"monitor": monitor})
    assert words in str(error.value)


def test_query_failures_match_by_api_and_glob_and_workspaces_by_list() -> None:
    fleet = backend(
        queryFailures=[
            {"api": "prometheus", "query": "*error_rate*", "status": 503},
            {"api": "logAnalytics", "partial": True},
        ],
        workspaces=[WORKSPACE],
    )
    monitor = fleet.monitor
    failure = monitor.failure_for("prometheus", "avg(error_rate)")
    assert failure is not None and failure.status == 503
    assert monitor.failure_for("prometheus", "latency_ms") is None
    partial = monitor.failure_for("logAnalytics", "InsightsMetrics")
    assert partial is not None and partial.partial
    assert monitor.workspace_exists(WORKSPACE.upper())
    assert not monitor.workspace_exists("00000000-0000-0000-0000-000000000000")
    assert not monitor.workspace_exists("fleet-logs")
    assert backend().monitor.workspace_exists("00000000-0000-0000-0000-000000000000")


# Log Analytics -------------------------------------------------------------------------------
def logs(query: str, fleet: Backend | None = None, timespan: str | None = "PT15M") -> Any:
    answer = run_logs_query(fleet or backend(), WORKSPACE, query, timespan, NOW)
    (table,) = answer["tables"]
    assert table["name"] == "PrimaryResult"
    return table


def test_insights_metrics_rows_carry_the_cluster_as_container_insights_does() -> None:
    table = logs('InsightsMetrics | where Name == "error_rate" | take 1')
    row = dict(zip([c["name"] for c in table["columns"]], table["rows"][0], strict=True))
    assert row["_ResourceId"] == row["_ResourceId"].lower()
    assert row["_ResourceId"].endswith("/connectedclusters/canary-1")
    assert '"container.azm.ms/clusterName":"canary-1"' in row["Tags"]
    assert (row["Name"], row["Val"], row["Type"], row["TenantId"]) == (
        "error_rate",
        0.01,
        "InsightsMetrics",
        WORKSPACE,
    )
    types = {c["name"]: c["type"] for c in table["columns"]}
    assert (types["TimeGenerated"], types["Val"], types["_ResourceId"]) == (
        "datetime",
        "real",
        "string",
    )


def test_summarize_by_resource_id_gives_one_row_per_cluster() -> None:
    fleet = backend()
    run_on(fleet, "canary-1", NOISY)
    table = logs(
        'InsightsMetrics | where Name == "error_rate" and TimeGenerated > ago(15m) '
        "| summarize Val=avg(Val), n=count() by _ResourceId | order by Val desc",
        fleet,
    )
    assert [c["name"] for c in table["columns"]] == ["_ResourceId", "Val", "n"]
    assert [c["type"] for c in table["columns"]] == ["string", "real", "long"]
    assert [(r[0].rsplit("/", 1)[1], r[1], r[2]) for r in table["rows"]] == [
        ("canary-1", 0.2, 1),
        ("canary-2", 0.01, 1),
        ("store-1", 0.01, 1),
    ]


@pytest.mark.parametrize(
    ("summarize", "columns", "row"),
    [
        ("summarize count()", ["count_"], [6]),
        ("summarize max(Val), min(Val)", ["max_Val", "min_Val"], [120.0, 0.01]),
        ("summarize dcount(Name)", ["dcount_Name"], [2]),
        ('where Name == "error_rate" | summarize sum(Val)', ["sum_Val"], [pytest.approx(0.03)]),
        (
            'where Name == "error_rate" | summarize percentile(Val, 50)',
            ["percentile_Val_50"],
            [0.01],
        ),
        ("summarize by Name | order by Name asc", ["Name"], ["error_rate"]),
        ("summarize n=count() by tolower(Name) | take 1", ["Column1", "n"], ["error_rate", 3]),
    ],
)
def test_summarize_names_its_columns_as_kql_does(
    summarize: str, columns: list[str], row: list[Any]
) -> None:
    fleet = backend(metrics={"error_rate": {"default": 0.01}, "latency_ms": {"default": 120}})
    table = logs(f"InsightsMetrics | {summarize}", fleet)
    assert [c["name"] for c in table["columns"]] == columns
    assert table["rows"][0] == row


def test_the_timespan_bounds_the_rows() -> None:
    assert logs("InsightsMetrics | count", timespan="PT1H")["rows"] == [[6]]
    past = f"{kql_time(NOW - timedelta(days=2))}/{kql_time(NOW - timedelta(days=1))}"
    assert logs("InsightsMetrics | count", timespan=past)["rows"] == [[0]]
    assert logs("InsightsMetrics | where TimeGenerated < ago(1m) | count")["rows"] == [[0]]
    start, end = time_range("2026-12-05T11:00:00Z/PT30M", NOW) or (None, None)
    assert (start, end) == (NOW - timedelta(hours=1), NOW - timedelta(minutes=30))
    assert time_range("PT900.0S", NOW) == (NOW - timedelta(minutes=15), NOW)
    with pytest.raises(TimespanError, match="not an ISO 8601 duration"):
        time_range("15 minutes", NOW)


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("KubePodInventory | take 1", "FailedToResolveTable", "named 'KubePodInventory'"),
        ("insightsmetrics | take 1", "FailedToResolveTable", "named 'insightsmetrics'"),
        ("InsightsMetrics | join x", "UnsupportedQueryElement", "summarize"),
        ("InsightsMetrics | summarize stdev(Val)", "UnsupportedQueryElement", "percentile"),
        ("InsightsMetrics | summarize", "ParserFailure", "needs an aggregation"),
        ("InsightsMetrics | where Nope > 1", "FailedToResolveScalarExpression", "'Nope'"),
        ("InsightsMetrics | where TimeGenerated > ago(15)", "ParserFailure", "a timespan"),
        ("InsightsMetrics | where bin(Val, 1) > 0", "UnsupportedQueryElement", "ago"),
    ],
)
def test_queries_outside_the_subset_are_named_errors(query: str, code: str, words: str) -> None:
    with pytest.raises(QueryError) as error:
        compile_logs_query(query, TABLES, NOW)
    assert error.value.code == code
    assert words in error.value.message


# Prometheus ----------------------------------------------------------------------------------
FLEET = [
    Sample("error_rate", "/s/rg/c/canary-1", "canary-1", NOISY, 0.2),
    Sample("error_rate", "/s/rg/c/canary-2", "canary-2", GOOD, 0.01),
    Sample("error_rate", "/s/rg/c/store-1", "store-1", GOOD, 0.03),
    Sample("latency_ms", "/s/rg/c/canary-1", "canary-1", NOISY, 250),
]


def prom(query: str) -> list[tuple[dict[str, str], float]]:
    result = compile_promql(query)(FLEET)
    assert result.scalar is None
    return sorted(result.series, key=lambda item: sorted(item[0].items()))


def test_a_selector_answers_one_series_per_cluster_with_its_labels() -> None:
    found = prom('error_rate{cluster=~"canary-.*"}')
    assert found == [
        ({"__name__": "error_rate", "cluster": "canary-1", "cluster_id": "/s/rg/c/canary-1"}, 0.2),
        ({"__name__": "error_rate", "cluster": "canary-2", "cluster_id": "/s/rg/c/canary-2"}, 0.01),
    ]
    assert [labels["cluster"] for labels, _ in prom('error_rate{cluster!="store-1"}')] == [
        "canary-1",
        "canary-2",
    ]
    assert prom('{__name__="latency_ms"}') == [
        ({"__name__": "latency_ms", "cluster": "canary-1", "cluster_id": "/s/rg/c/canary-1"}, 250)
    ]
    assert prom('error_rate{cluster=~"canary"}') == []  # regular expressions are anchored


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("avg by (cluster) (error_rate)", {"canary-1": 0.2, "canary-2": 0.01, "store-1": 0.03}),
        ("max(error_rate) by (cluster)", {"canary-1": 0.2, "canary-2": 0.01, "store-1": 0.03}),
        (
            "avg by (cluster) (rate(error_rate[5m]))",
            {"canary-1": 0.2, "canary-2": 0.01, "store-1": 0.03},
        ),
        (
            "sum without (cluster_id) (avg_over_time(error_rate[1h]))",
            {"canary-1": 0.2, "canary-2": 0.01, "store-1": 0.03},
        ),
    ],
)
def test_aggregations_by_cluster(query: str, expected: dict[str, float]) -> None:
    assert {labels["cluster"]: value for labels, value in prom(query)} == pytest.approx(expected)
    assert all("__name__" not in labels for labels, _ in prom(query))


def test_aggregations_without_grouping_answer_one_series() -> None:
    assert prom("count(error_rate)") == [({}, 3.0)]
    assert prom("max(error_rate)") == [({}, 0.2)]
    assert compile_promql("0.5")(FLEET).scalar == 0.5


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("error_rate / 2", "1:12: parse error: binary operator '/' is not supported"),
        ("histogram_quantile(0.9, x)", "function 'histogram_quantile' is not supported"),
        ("error_rate offset 5m", "'offset' is not supported"),
        ("rate(error_rate[5m:1m])", "a subquery is not supported"),
        ("rate(error_rate[five])", "bad duration"),
        ('{cluster="canary-1"', "unexpected '' in selector"),
        ('{cluster=""}', "at least one non-empty matcher"),
        ('error_rate{cluster=~"("}', "invalid regular expression"),
        ("", "no expression found in input"),
        ("(error_rate)", "a parenthesised expression is not supported"),
    ],
)
def test_queries_outside_the_subset_are_bad_data_errors(query: str, words: str) -> None:
    with pytest.raises(PromQLError) as error:
        compile_promql(query)(FLEET)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.2, "0.2"), (1.0, "1"), (1e-05, "0.00001"), (250.0, "250"), (float("nan"), "NaN")],
)
def test_values_are_written_as_prometheus_writes_them(value: float, text: str) -> None:
    assert format_value(value) == text
