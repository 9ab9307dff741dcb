"""The monitor adapter against the emulator over TLS: each kind of gate query gives one value
per cluster of the rollout, matched by ARM id or name, and every way a query fails comes back
as arcwave's error class with a message that names the gate and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import Emulator
from shared.adapters.arm import StaticTokenCredential
from shared.adapters.monitor import MonitorGateway
from shared.adapters.monitor_answers import ClusterRef
from shared.errors import Forbidden, Invalid, NotFound, Throttled, TransientError
from shared.settings import CredentialKind, Settings, StoreSettings
from shared.trackspec import MetricGate

pytestmark = pytest.mark.integration
SUB = "00000000-0000-0000-0000-000000000001"
WORKSPACE = "4f1e0f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
BY_ID = 'InsightsMetrics | where Name == "error_rate" | summarize Val=avg(Val) by _ResourceId'


def cluster_id(name: str, group: str = "rg-fleet") -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/{group}"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    scenario = {
        "subscriptionId": SUB,
        "defaults": {"resourceGroup": "rg-fleet"},
        "clusters": [
            {"name": "canary-1"},
            {"name": "canary-2"},
            {"name": "store-1"},
            {"name": "store-1", "resourceGroup": "rg-other"},
            {"name": "outsider"},
        ],
        "monitor": {
            "metrics": {"error_rate": {"default": 0.01}, "latency_ms": {"default": 120}},
            "workspaces": [WORKSPACE],
        },
    }
    with Emulator(scenario, tls_dir=tmp_path_factory.mktemp("tls")) as running:
        yield running


@pytest.fixture
def gateway(emulator: Emulator, tmp_path: Path) -> Iterator[MonitorGateway]:
    settings = Settings(
        arm_endpoint=emulator.endpoint,
        arm_ca_bundle=emulator.cert_path,
        credential=CredentialKind.EMULATOR,
        store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "arcwave.db"),
        log_analytics_endpoint=emulator.log_analytics_endpoint,
    )
    gateway = MonitorGateway(settings, StaticTokenCredential())
    yield gateway
    gateway.close()
    emulator.control.patch_monitor(queryFailures=[])


ROLLOUT = [
    ClusterRef(cluster_id("canary-1"), "canary-1"),
    ClusterRef(cluster_id("canary-2"), "canary-2"),
    ClusterRef(cluster_id("store-1"), "store-1"),
]


def logs_gate(query: str = BY_ID, **fields: Any) -> MetricGate:
    return MetricGate.model_validate(
        {
            "name": "error-rate",
            "logAnalytics": {"workspaceId": WORKSPACE, "query": query, **fields},
            "threshold": {"max": 1},
        }
    )


def prometheus_gate(emulator: Emulator, query: str) -> MetricGate:
    return MetricGate.model_validate(
        {
            "name": "error-rate",
            "prometheus": {"queryEndpoint": emulator.prometheus_endpoint, "query": query},
            "threshold": {"max": 1},
        }
    )


def test_log_analytics_rows_match_the_rollouts_clusters_by_arm_id(
    gateway: MonitorGateway,
) -> None:
    values = gateway.values(logs_gate(), ROLLOUT)
    # _ResourceId comes lower-cased; the answer is keyed by the ids as given.
    assert values == {ref.id: 0.01 for ref in ROLLOUT}


def test_log_analytics_needs_a_value_column_when_there_are_several_numbers(
    gateway: MonitorGateway,
) -> None:
    query = "InsightsMetrics | summarize avg_rate=avg(Val), n=count() by _ResourceId"
    with pytest.raises(Invalid, match="needs exactly one numeric column, has avg_rate, n"):
        gateway.values(logs_gate(query), ROLLOUT)
    values = gateway.values(logs_gate(query, valueColumn="n"), ROLLOUT)
    assert values == {ref.id: 2.0 for ref in ROLLOUT}


def test_log_analytics_rows_can_name_clusters(gateway: MonitorGateway) -> None:
    query = (
        'InsightsMetrics | where Name == "latency_ms" '
        "| summarize Val=max(Val) by ClusterName=Computer"
    )
    values = gateway.values(logs_gate(query), ROLLOUT)
    # 'store-1' names two clusters of the workspace but one of the rollout: it matches.
    assert values == {ref.id: 120.0 for ref in ROLLOUT}


def test_prometheus_series_match_by_cluster_label_and_by_cluster_id(
    emulator: Emulator, gateway: MonitorGateway
) -> None:
    by_name = gateway.values(prometheus_gate(emulator, "avg by (cluster) (error_rate)"), ROLLOUT)
    assert by_name == {ref.id: 0.01 for ref in ROLLOUT}
    shouted = [ClusterRef(ref.id.upper(), ref.name) for ref in ROLLOUT]
    by_id = gateway.values(prometheus_gate(emulator, "max by (cluster_id) (latency_ms)"), shouted)
    assert by_id == {ref.id: 120.0 for ref in shouted}


def test_a_name_two_clusters_share_matches_neither(
    emulator: Emulator, gateway: MonitorGateway
) -> None:
    both = [*ROLLOUT, ClusterRef(cluster_id("store-1", "rg-other"), "store-1")]
    values = gateway.values(prometheus_gate(emulator, "avg by (cluster) (error_rate)"), both)
    assert set(values) == {ROLLOUT[0].id, ROLLOUT[1].id}


def test_several_series_for_one_cluster_ask_for_an_aggregation(
    emulator: Emulator, gateway: MonitorGateway
) -> None:
    with pytest.raises(Invalid, match="several values for cluster 'canary-1': aggregate per"):
        gateway.values(prometheus_gate(emulator, '{__name__=~".+"}'), ROLLOUT)


@pytest.mark.parametrize(
    ("query", "error", "words"),
    [
        ("max(error_rate)", Invalid, "a series has neither a 'cluster' nor a 'cluster_id' label"),
        ("2", Invalid, "answers a scalar, not an instant vector"),
        ("error_rate * 2", Invalid, "refused (400): (bad_data) 1:12: parse error: binary"),
    ],
)
def test_prometheus_answers_that_do_not_fit_are_invalid(
    emulator: Emulator, gateway: MonitorGateway, query: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        gateway.values(prometheus_gate(emulator, query), ROLLOUT)
    assert words in str(raised.value)
    assert str(raised.value).startswith(
        f"metric gate 'error-rate': Prometheus query at '{emulator.prometheus_endpoint}': "
    )


@pytest.mark.parametrize(
    ("failure", "error", "words"),
    [
        ({"status": 403}, Forbidden, "grant arcwave's identity Log Analytics Reader"),
        ({"status": 400}, Invalid, "refused (400): (BadArgumentError)"),
        ({"partial": True}, TransientError, "partial results only: (PartialError)"),
    ],
)
def test_log_analytics_failures_are_arcwaves_errors(
    emulator: Emulator,
    gateway: MonitorGateway,
    failure: dict[str, Any],
    error: type[Exception],
    words: str,
) -> None:
    emulator.control.patch_monitor(queryFailures=[{"api": "logAnalytics", **failure}])
    with pytest.raises(error) as raised:
        gateway.values(logs_gate(), ROLLOUT)
    assert words in str(raised.value)
    assert f"Log Analytics query of workspace '{WORKSPACE}'" in str(raised.value)


def test_an_unknown_workspace_is_not_found(gateway: MonitorGateway) -> None:
    gate = MetricGate.model_validate(
        {
            "name": "error-rate",
            "logAnalytics": {"workspaceId": "00000000-0000-0000-0000-000000000000", "query": BY_ID},
            "threshold": {"max": 1},
        }
    )
    with pytest.raises(NotFound, match=r"not found \(\(WorkspaceNotFoundError\) Workspace"):
        gateway.values(gate, ROLLOUT)


def test_prometheus_throttling_after_retries_is_throttled(
    emulator: Emulator, gateway: MonitorGateway
) -> None:
    emulator.control.patch_monitor(queryFailures=[{"api": "prometheus", "status": 429}])
    with pytest.raises(Throttled) as raised:
        gateway.values(prometheus_gate(emulator, "avg by (cluster) (error_rate)"), ROLLOUT)
    assert raised.value.delay == 1.0
    assert "(too_many_requests)" in str(raised.value)
