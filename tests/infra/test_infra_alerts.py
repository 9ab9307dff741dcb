"""infra/app/alerts.bicep: the action group that sends Azure Monitor alerts to POST /api/alerts
in the common alert schema, with the receive_alert function's own key, created by the second
deployment (the function must exist for its key to)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE = (REPO / "infra" / "app" / "alerts.bicep").read_text()
MAIN = (REPO / "infra" / "main.bicep").read_text()


def module_block(symbol: str) -> str:
    match = re.search(rf"^module {symbol} '[^']+' = [^\n]*\{{\n(.*?)^\}}", MAIN, re.M | re.S)
    assert match, f"no module {symbol}"
    return match.group(0)


def test_the_action_group_posts_the_common_alert_schema_to_the_alerts_route() -> None:
    assert re.search(
        r"^resource actionGroup 'Microsoft\.Insights/actionGroups@[\w-]+'", MODULE, re.M
    )
    receivers = MODULE[MODULE.index("webhookReceivers: [") :]
    assert "serviceUri: '${functionAppUrl}/api/alerts?code=${alertsFunctionKey}'" in receivers
    assert "useCommonAlertSchema: true" in receivers
    assert "location: 'Global'" in MODULE


def test_the_key_in_the_url_is_a_secure_parameter_never_an_output() -> None:
    assert re.search(r"@secure\(\)\nparam alertsFunctionKey string", MODULE)
    outputs = re.findall(r"^output .*$", MODULE, re.M)
    assert outputs and not any("Key" in line or "serviceUri" in line for line in outputs)


def test_main_creates_it_with_the_second_deployment_and_the_functions_own_key() -> None:
    block = module_block("alertActionGroup")
    assert "'app/alerts.bicep' = if (deployEventSubscriptions)" in block
    assert (
        "alertsFunctionKey: deployEventSubscriptions ? "
        "listKeys('${site.id}/functions/receive_alert', '2024-04-01').default : ''"
    ) in block
    assert "name: '${abbrs.insightsActionGroups}arcwave-${resourceToken}'" in block
    assert "output ARCWAVE_ALERTS_URL string = '${functionApp.outputs.url}/api/alerts'" in MAIN


def test_the_function_the_key_belongs_to_is_the_alerts_route() -> None:
    source = (REPO / "triggers" / "alerts.py").read_text()
    assert '@operation_route(bp, "alerts", ["POST"], name="receive_alert")' in source
