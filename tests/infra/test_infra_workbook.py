"""infra/app/workbook.bicep: the rollout workbook exists, is wired to the deployment's
Application Insights, and its KQL finds a rollout by the names the code emits."""

import json
import re
from pathlib import Path
from typing import Any

from shared.telemetry import names

INFRA = Path(__file__).resolve().parents[2] / "infra"
WORKBOOK = INFRA / "app" / "workbook.bicep"
CONTENT = INFRA / "app" / "workbooks" / "rollout.json"


def queries() -> list[str]:
    """Every KQL query of the workbook: its items' and its parameters'."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("query"), str):
                found.append(node["query"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(CONTENT.read_text()))
    return found


def test_the_workbook_is_a_workbooks_resource_on_the_deployments_application_insights() -> None:
    text = WORKBOOK.read_text()
    assert "resource workbook 'Microsoft.Insights/workbooks@" in text
    assert "sourceId: toLower(applicationInsightsId)" in text
    assert "loadTextContent('workbooks/rollout.json')" in text
    main = (INFRA / "main.bicep").read_text()
    assert "module workbook 'app/workbook.bicep'" in main
    assert "applicationInsightsId: monitoring.outputs.applicationInsightsId" in main


def test_the_workbook_is_workbook_json_that_names_its_application_insights() -> None:
    content = json.loads(CONTENT.read_text())
    assert content["version"] == "Notebook/1.0"
    assert content["fallbackResourceIds"] == ["__APPLICATION_INSIGHTS_ID__"]
    assert "'__APPLICATION_INSIGHTS_ID__', applicationInsightsId" in WORKBOOK.read_text()


def test_the_workbook_finds_a_rollout_by_its_id_in_spans_and_logs() -> None:
    kql = queries()
    by_rollout = [q for q in kql if f"customDimensions['{names.ROLLOUT_ID}']" in q]
    assert len(by_rollout) >= 4, kql
    assert any("{RolloutId}" in q and "traces" in q for q in kql), "no log query by rollout"
    assert any(q.startswith("dependencies") and "'ARM '" in q for q in by_rollout)
    picker = next(q for q in kql if "summarize last = max(timestamp) by rollout" in q)
    assert names.ROLLOUT_ID in picker


def test_every_arcwave_name_the_workbook_queries_is_one_the_code_emits() -> None:
    emitted = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    for query in queries():
        for used in re.findall(r"'(arcwave\.[a-z.]+)'", query):
            assert used in emitted, f"the workbook queries {used}, which nothing emits"
