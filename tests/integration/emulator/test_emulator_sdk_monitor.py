"""The emulator's Azure Monitor query APIs through real clients: azure-monitor-query's
LogsQueryClient for Log Analytics, an azure-core pipeline with a bearer token for managed
Prometheus; values that follow the revision each cluster runs, faults, and errors in each
service's own shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from azure.core import PipelineClient
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.rest import HttpRequest
from azure.monitor.query import LogsQueryClient, LogsQueryPartialResult, LogsQueryStatus
from emulator_support import SUBSCRIPTION, fleet_scenario

from emulator.testing import Emulator, wait_until

pytestmark = pytest.mark.integration
WORKSPACE = "4f1e0f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
GOOD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
NOISY = "bad1c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
BY_CLUSTER = 'InsightsMetrics | where Name == "error_rate" | summarize Val=avg(Val) by _ResourceId'


class RecordingCredential:
    """A TokenCredential that remembers the scopes it was asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("monitor-token", int(time.time()) + 3600)


@pytest.fixture
def emulator(tls_dir: Any) -> Iterator[Emulator]:
    scenario = fleet_scenario(
        clusters=[
            {"name": "canary-1", "tags": {"ring": "canary"}},
            {"name": "canary-2", "tags": {"ring": "canary"}},
            {"name": "store-1"},
        ],
        faults={},
        monitor={
            "metrics": {"error_rate": {"default": 0.01, "byCommit": {"bad1": 0.2}}},
            "workspaces": [WORKSPACE],
        },
    )
    with Emulator(scenario, tls_dir=tls_dir) as running:
        yield running


@pytest.fixture
def logs(emulator: Emulator) -> Iterator[LogsQueryClient]:
    with LogsQueryClient(
        emulator.credential(),
        endpoint=emulator.log_analytics_endpoint,
        connection_verify=str(emulator.cert_path),
        retry_policy=RetryPolicy(retry_total=0),
    ) as client:
        yield client


@pytest.fixture
def credential() -> RecordingCredential:
    return RecordingCredential()


@pytest.fixture
def prometheus(
    emulator: Emulator, credential: RecordingCredential
) -> Iterator[PipelineClient[Any, Any]]:
    client: PipelineClient[Any, Any] = PipelineClient(
        base_url=emulator.prometheus_endpoint,
        policies=[
            RetryPolicy(retry_total=0),
            BearerTokenCredentialPolicy(
                credential, "https://prometheus.monitor.azure.com/.default"
            ),
        ],
        connection_verify=str(emulator.cert_path),
    )
    with client:
        yield client


def pin(emulator: Emulator, cluster: str, commit: str) -> None:
    """Write `commit` to `cluster` the way arcwave would, and wait for Flux to apply it."""
    body = {
        "properties": {
            "scope": "cluster",
            "namespace": "flux-system",
            "sourceKind": "GitRepository",
            "gitRepository": {
                "url": "https://github.com/contoso/fleet-config",
                "repositoryRef": {"branch": "main", "commit": commit},
            },
            "kustomizations": {"infra": {"path": "./infra"}},
        }
    }
    url = (
        f"{emulator.endpoint}/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/"
        f"Microsoft.Kubernetes/connectedClusters/{cluster}/providers/"
        "Microsoft.KubernetesConfiguration/fluxConfigurations/baseline?api-version=2023-05-01"
    )
    answer = requests.put(
        url, json=body, headers={"Authorization": "Bearer t"}, verify=str(emulator.cert_path)
    )
    assert answer.status_code in (200, 201), answer.text

    def applied() -> bool:
        return any(
            s["cluster"] == cluster and s["revision"] == commit for s in emulator.control.series()
        )

    wait_until(applied, timeout=10, what=f"{cluster} runs {commit}")


def by_cluster(rows: list[Any]) -> dict[str, float]:
    return {str(row[0]).rsplit("/", 1)[1]: row[1] for row in rows}


def test_logs_query_client_reads_one_row_per_cluster(
    emulator: Emulator, logs: LogsQueryClient
) -> None:
    pin(emulator, "canary-1", NOISY)
    result = logs.query_workspace(WORKSPACE, BY_CLUSTER, timespan=timedelta(minutes=15))
    assert result.status is LogsQueryStatus.SUCCESS
    (table,) = result.tables
    assert (table.name, table.columns, table.columns_types) == (
        "PrimaryResult",
        ["_ResourceId", "Val"],
        ["string", "real"],
    )
    assert by_cluster(table.rows) == {"canary-1": 0.2, "canary-2": 0.01, "store-1": 0.01}
    assert table.rows[0]["_ResourceId"].startswith(f"/subscriptions/{SUBSCRIPTION}/resourcegroups/")


def test_a_partial_result_comes_back_as_the_sdk_partial_result(
    emulator: Emulator, logs: LogsQueryClient
) -> None:
    emulator.control.patch_monitor(queryFailures=[{"api": "logAnalytics", "partial": True}])
    result = logs.query_workspace(WORKSPACE, BY_CLUSTER, timespan=timedelta(minutes=15))
    assert isinstance(result, LogsQueryPartialResult)
    assert result.partial_error is not None and result.partial_error.code == "PartialError"
    assert len(result.partial_data[0].rows) == 3


@pytest.mark.parametrize(
    ("workspace", "query", "status", "code", "words"),
    [
        (WORKSPACE, "InsightsMetrics | join x", 400, "BadArgumentError", "'join' is not supported"),
        (WORKSPACE, "Perf | take 1", 400, "BadArgumentError", "named 'Perf'"),
        (WORKSPACE, "InsightsMetrics | where", 400, "BadArgumentError", "could not be parsed"),
    ],
)
def test_errors_reach_the_sdk_with_the_innermost_message(
    logs: LogsQueryClient, workspace: str, query: str, status: int, code: str, words: str
) -> None:
    with pytest.raises(HttpResponseError) as error:
        logs.query_workspace(workspace, query, timespan=timedelta(minutes=15))
    assert error.value.status_code == status
    assert error.value.model.code == code  # type: ignore[union-attr]
    assert words in error.value.model.message  # type: ignore[union-attr]


def test_an_unknown_workspace_is_not_found(logs: LogsQueryClient) -> None:
    with pytest.raises(HttpResponseError) as error:
        logs.query_workspace(
            "00000000-0000-0000-0000-000000000000", "InsightsMetrics", timespan=None
        )
    assert error.value.status_code == 404
    assert error.value.error is not None
    assert error.value.error.code == "WorkspaceNotFoundError"


def test_an_injected_failure_answers_its_status(emulator: Emulator, logs: LogsQueryClient) -> None:
    emulator.control.patch_monitor(
        queryFailures=[{"api": "logAnalytics", "query": "*error_rate*", "status": 403}]
    )
    with pytest.raises(HttpResponseError) as error:
        logs.query_workspace(WORKSPACE, BY_CLUSTER, timespan=timedelta(minutes=15))
    assert (error.value.status_code, error.value.model.code) == (403, "InsufficientAccessError")  # type: ignore[union-attr]
    other = logs.query_workspace(WORKSPACE, "InsightsMetrics | count", timespan=None)
    assert other.status is LogsQueryStatus.SUCCESS


def test_log_analytics_wants_a_bearer_token(emulator: Emulator) -> None:
    answer = requests.post(
        f"{emulator.log_analytics_endpoint}/workspaces/{WORKSPACE}/query",
        json={"query": "InsightsMetrics"},
        verify=str(emulator.cert_path),
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"


def prom(client: PipelineClient[Any, Any], query: str, method: str = "POST") -> Any:
    url = client.format_url("/api/v1/query")
    if method == "POST":
        request = HttpRequest("POST", url, data={"query": query})
    else:
        request = HttpRequest("GET", url, params={"query": query})
    return client.send_request(request)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_prometheus_answers_a_vector_by_cluster(
    emulator: Emulator,
    prometheus: PipelineClient[Any, Any],
    credential: RecordingCredential,
    method: str,
) -> None:
    pin(emulator, "canary-2", NOISY)
    answer = prom(prometheus, "avg by (cluster) (error_rate)", method)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["data"]["resultType"]) == ("success", "vector")
    found = {s["metric"]["cluster"]: s["value"][1] for s in body["data"]["result"]}
    assert found == {"canary-1": "0.01", "canary-2": "0.2", "store-1": "0.01"}
    assert credential.scopes == [("https://prometheus.monitor.azure.com/.default",)]


def test_prometheus_series_carry_the_cluster_id(prometheus: PipelineClient[Any, Any]) -> None:
    body = prom(prometheus, 'error_rate{cluster="store-1"}').json()
    (series,) = body["data"]["result"]
    assert series["metric"]["cluster_id"].endswith(
        "/providers/Microsoft.Kubernetes/connectedClusters/store-1"
    )
    assert series["metric"]["__name__"] == "error_rate"


@pytest.mark.parametrize(
    ("query", "status", "kind", "words"),
    [
        ("error_rate / on(cluster) other", 400, "bad_data", "binary operator '/' is not supported"),
        ("", 400, "bad_data", "no expression found"),
    ],
)
def test_prometheus_errors_are_prometheus_errors(
    prometheus: PipelineClient[Any, Any], query: str, status: int, kind: str, words: str
) -> None:
    answer = prom(prometheus, query)
    body = answer.json()
    assert answer.status_code == status
    assert (body["status"], body["errorType"]) == ("error", kind)
    assert words in body["error"]


def test_prometheus_faults_and_unemulated_paths(
    emulator: Emulator, prometheus: PipelineClient[Any, Any]
) -> None:
    emulator.control.set_monitor(
        metrics={"error_rate": {"default": 0.01}},
        queryFailures=[{"api": "prometheus", "query": "*error_rate*", "status": 503}],
    )
    answer = prom(prometheus, "avg by (cluster) (error_rate)")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["errorType"] == "unavailable"
    ranged = prometheus.send_request(
        HttpRequest("GET", prometheus.format_url("/api/v1/query_range"))
    )
    assert (ranged.status_code, ranged.json()["errorType"]) == (404, "not_found")


def test_prometheus_wants_a_bearer_token(emulator: Emulator) -> None:
    answer = requests.get(
        f"{emulator.prometheus_endpoint}/api/v1/query",
        params={"query": "error_rate"},
        verify=str(emulator.cert_path),
    )
    assert answer.status_code == 401
    assert 'resource="https://prometheus.monitor.azure.com"' in answer.headers["WWW-Authenticate"]


def test_the_control_api_changes_and_resets_the_monitor_data(emulator: Emulator) -> None:
    control = emulator.control
    control.patch_monitor(metrics={"latency_ms": {"default": 120}})
    assert set(control.monitor()["metrics"]) == {"error_rate", "latency_ms"}
    assert {s["metric"] for s in control.series()} == {"error_rate", "latency_ms"}
    control.patch_monitor(metrics={"latency_ms": None})
    assert set(control.monitor()["metrics"]) == {"error_rate"}
    with pytest.raises(requests.HTTPError) as error:
        control.set_monitor(metrics={"9bad": {}})
    assert error.value.response.status_code == 400
    control.set_monitor(metrics={})
    assert control.series() == []
    control.reset()
    assert set(control.monitor()["metrics"]) == {"error_rate"}
