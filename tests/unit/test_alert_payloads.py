"""Azure Monitor alerts: the common alert schema as Azure publishes it (the reference payloads,
unchanged), its variants (metric dimensions, log search v1 and v2, Prometheus labels), and which
clusters one names. What one does to a rollout: test_alerting.py."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.alerts import (
    CommonAlert,
    MonitorCondition,
    matching,
    read_alert,
)
from shared.problems import InvalidInput
from shared.trackspec import Severity

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
SUB = "00000000-0000-0000-0000-000000000001"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def cluster(name: str) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg-fleet"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


CLUSTERS = [(cluster("canary-1"), "canary-1"), (cluster("canary-2"), "canary-2")]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def alert(
    condition: str = "Fired",
    *,
    targets: list[str] | None = None,
    context: dict[str, Any] | None = None,
    severity: str = "Sev2",
    alert_id: str = "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a-1",
    rule: str = "HighErrorRate",
) -> CommonAlert:
    """The published sample, changed to fire (or resolve) on `targets` with `context`."""
    data = load("azure-monitor-common-alert.json")
    essentials = data["data"]["essentials"]
    essentials.update(
        monitorCondition=condition, severity=severity, alertId=alert_id, alertRule=rule
    )
    if targets is not None:
        essentials["alertTargetIDs"] = targets
    if context is not None:
        data["data"]["alertContext"] = context
    return read_alert(data)


def dimensions(*pairs: tuple[str, str]) -> dict[str, Any]:
    """A metric alert's (or a v2 log search alert's) context with these dimensions."""
    return {
        "conditionType": "MultipleResourceMultipleMetricCriteria",
        "condition": {
            "windowSize": "PT5M",
            "allOf": [
                {"metricName": "errors", "dimensions": [{"name": n, "value": v} for n, v in pairs]}
            ],
        },
    }


# -- the schema ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["azure-monitor-common-alert.json", "azure-monitor-common-alert-with-customproperties.json"],
)
def test_the_published_samples_are_read_as_they_are(name: str) -> None:
    read = read_alert(load(name))
    assert read.rule == "WCUS-R2-Gen2"
    assert read.essentials.severity is Severity.SEV3
    assert read.essentials.monitor_condition is MonitorCondition.RESOLVED
    assert not read.fired
    assert read.essentials.fired_date_time == datetime(2019, 3, 22, 13, 58, 24, 371321, UTC)
    assert [s.name for s in read.signals()] == ["alertTargetIDs", "ResourceId"]
    # A virtual machine's alert names no cluster.
    assert matching(read.signals(), CLUSTERS) == []


def test_a_fired_alert_is_fired_and_keyed_by_its_alert_id_in_lower_case() -> None:
    fired = alert("Fired", alert_id="/subscriptions/S/providers/X/alerts/AbC")
    resolved = alert("Resolved", alert_id="/subscriptions/s/providers/x/alerts/abc")
    assert fired.fired and not resolved.fired
    assert fired.key == resolved.key and fired.digest == resolved.digest
    assert fired.actor == "alert:HighErrorRate"


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        (lambda d: d.update(schemaId="AzureMonitorMetricAlert"), "schemaId", "common_alert_schema"),
        (
            lambda d: d["data"]["essentials"].update(monitorCondition="Active"),
            "data.essentials.monitorCondition",
            "enum",
        ),
        (
            lambda d: d["data"]["essentials"].update(severity="Sev9"),
            "data.essentials.severity",
            "enum",
        ),
        (
            lambda d: d["data"]["essentials"].pop("alertRule"),
            "data.essentials.alertRule",
            "missing",
        ),
        (
            lambda d: d["data"]["essentials"].update(alertId=""),
            "data.essentials.alertId",
            "string_too_short",
        ),
        (
            lambda d: d["data"]["essentials"].update(alertTargetIDs="x"),
            "data.essentials.alertTargetIDs",
            "list_type",
        ),
        (lambda d: d["data"].pop("essentials"), "data.essentials", "missing"),
        (lambda d: d.update(data=[]), "data", "model_type"),
    ],
)
def test_a_malformed_alert_names_the_field(change: Any, loc: str, kind: str) -> None:
    data = load("azure-monitor-common-alert.json")
    change(data)
    with pytest.raises(InvalidInput) as raised:
        read_alert(data)
    problems = [(p.loc, p.type) for p in raised.value.problems]
    assert (loc, kind) in problems, problems


def test_an_alert_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInput, match="an alert is a JSON object"):
        read_alert(["not", "an", "alert"])


def test_fields_arcwave_does_not_read_may_come_and_go() -> None:
    data = load("azure-monitor-common-alert-with-customproperties.json")
    data["data"]["essentials"]["investigationLink"] = "https://portal.azure.com/#view/x"
    data["data"]["alertContext"] = None
    assert read_alert(data).signals()[0].name == "alertTargetIDs"


# -- which clusters an alert names --------------------------------------------------------


def test_targets_are_compared_case_insensitively_as_azure_lower_cases_them() -> None:
    target = cluster("canary-2").lower()
    assert target != cluster("canary-2")
    assert matching(alert(targets=[target]).signals(), CLUSTERS) == [cluster("canary-2")]


def test_a_resource_under_the_cluster_names_it_but_a_longer_name_does_not() -> None:
    child = cluster("canary-1") + "/providers/Microsoft.KubernetesConfiguration/extensions/flux"
    assert matching(alert(targets=[child]).signals(), CLUSTERS) == [cluster("canary-1")]
    assert matching(alert(targets=[cluster("canary-10")]).signals(), CLUSTERS) == []


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("_ResourceId", cluster("canary-1").upper(), ["canary-1"]),  # Container insights
        ("ClusterId", cluster("canary-2"), ["canary-2"]),
        ("cluster", "canary-1", ["canary-1"]),
        ("ClusterName", "CANARY-2", ["canary-2"]),
        ("Computer", "canary-1", []),  # a plain name under another dimension is not a cluster
        ("ResourceId", "b1b1b1b1-cccc-dddd-eeee-f2f2f2f2f2f2", []),
    ],
)
def test_metric_alert_dimensions_name_clusters_by_id_or_by_a_cluster_dimension(
    name: str, value: str, named: list[str]
) -> None:
    read = alert(targets=[], context=dimensions((name, value)))
    assert [n for i, n in CLUSTERS if i in matching(read.signals(), CLUSTERS)] == named


def test_a_log_search_alert_v2_names_clusters_by_its_dimensions() -> None:
    context = load("azure-monitor-common-alert.json")["data"]["alertContext"]
    context = copy.deepcopy(context)
    context.update(conditionType="LogQueryCriteria")
    context["condition"]["allOf"][0] = {
        "searchQuery": "KubePodInventory | where PodStatus == 'Failed'",
        "metricMeasureColumn": None,
        "targetResourceTypes": "['Microsoft.OperationalInsights/workspaces']",
        "operator": "GreaterThan",
        "threshold": "0",
        "timeAggregation": "Count",
        "dimensions": [{"name": "_ResourceId", "value": cluster("canary-1").lower()}],
        "metricValue": 3.0,
    }
    workspace = f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.operationalinsights"
    workspace += "/workspaces/w"
    read = alert(targets=[workspace], context=context)
    assert matching(read.signals(), CLUSTERS) == [cluster("canary-1")]


def test_a_log_alert_v1_names_clusters_by_its_dimensions() -> None:
    context = {
        "SearchQuery": "KubeEvents",
        "Dimensions": [{"name": "ClusterId", "value": cluster("canary-2")}],
        "AffectedConfigurationItems": [],
    }
    assert matching(alert(targets=[], context=context).signals(), CLUSTERS) == [cluster("canary-2")]


def test_a_prometheus_alert_names_clusters_by_its_labels() -> None:
    context = {
        "interval": "PT1M",
        "expression": 'sum(rate(http_requests_total{code=~"5.."}[5m])) > 1',
        "labels": {"alertname": "HighErrorRate", "cluster": "canary-2", "namespace": "apps"},
        "annotations": {"summary": "5xx"},
    }
    workspace = f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.monitor/accounts/amw"
    read = alert(targets=[workspace], context=context)
    assert matching(read.signals(), CLUSTERS) == [cluster("canary-2")]


def test_a_context_without_the_documented_shape_names_nothing_rather_than_failing() -> None:
    for context in (
        {"condition": "oops"},
        {"condition": {"allOf": {"not": "a list"}}},
        {"condition": {"allOf": [{"dimensions": [{"name": 1, "value": cluster("canary-1")}]}]}},
        {"labels": ["cluster", "canary-1"]},
        {"Dimensions": "canary-1"},
    ):
        assert matching(alert(targets=[], context=context).signals(), CLUSTERS) == []
