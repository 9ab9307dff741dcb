"""Alerts halt rollouts, end to end: Azure Monitor's published alert, as an action group posts
it, through `POST /api/alerts` of the app under devhost, against the emulator as Azure.

Flux reconciles by hand here (the emulator's `manual` progression), so a written cluster stays
in flight until the test lets it finish: the wave is mid-flight when the alert comes, always.
Measured from the outside: the answers, the rollout's state and timeline, the emulator's write
log."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rollout_support import (
    GOOD,
    GOOD2,
    ROOT,
    Stack,
    cluster_id,
    running_stack,
    scenario,
    written_at,
)

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "tests" / "payloads" / "azure-monitor-common-alert.json"
MANUAL = {**scenario()["flux"], "progression": "manual"}
WAVES = [
    {"name": "canary", "selector": {"ring": "canary"}, "maxConcurrency": 1},
    {"name": "rest", "maxConcurrency": 4},
]


def alert_body(condition: str, cluster: str, rule: str = "HighErrorRate") -> dict[str, Any]:
    """Azure's published sample, fired or resolved on `cluster`, its id lower-cased as Azure
    sends alert targets."""
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    data["data"]["essentials"].update(
        alertRule=rule,
        alertId=f"/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{rule}-1",
        monitorCondition=condition,
        severity="Sev1",
        alertTargetIDs=[cluster_id(cluster).lower()],
    )
    return data


def post_alert(
    stack: Stack,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """POST to /api/alerts with the function key; `raw` is sent as JSON, as it is."""
    keyed = {"x-functions-key": stack.host.function_key, **(headers or {})}
    if raw is not None:
        keyed["Content-Type"] = "application/json"
    code, answer = stack.host.request("POST", "/api/alerts", body, raw=raw, headers=keyed)
    return int(code), answer


def first_write(stack: Stack) -> str:
    writes = eventually(stack.writes, timeout=60, what="the first write of the rollout")
    return str(writes[0]["cluster"])


def test_an_alert_on_the_running_wave_pauses_it_and_its_resolution_resumes_it(
    tmp_path: Path,
) -> None:
    with running_stack(tmp_path, flux=MANUAL) as stack:
        stack.register(waves=WAVES, alerts={"resumeOnResolved": True})
        stack.roll(GOOD, "r1")
        first = first_write(stack)

        code, body = post_alert(stack, alert_body("Fired", first))
        assert (code, body["paused"]) == (202, ["r1"]), body
        rollout = stack.wait_state("r1", RolloutState.PAUSED)
        assert rollout.reason is Reason.ALERT_FIRED
        # The wave writing now recorded the pause while its first cluster was still in flight.
        took_effect = next(
            e
            for e in stack.records.timeline.list("r1")
            if e.actor == "arcwave" and e.reason is Reason.ALERT_FIRED
        )
        assert took_effect.data["wave"] == "canary"
        assert "paused by alert:HighErrorRate" in took_effect.message
        assert "(1 in flight finish, 1 wait)" in took_effect.message
        at_pause = stack.writes()
        assert [w["cluster"] for w in at_pause] == [first]
        assert all(written_at(w) <= took_effect.time for w in at_pause)

        # The rollout's detail lists the alert firing on it.
        code, detail = stack.host.request(
            "GET", "/api/rollouts/r1", headers={"x-functions-key": stack.host.function_key}
        )
        assert code == 200, detail
        [firing] = detail["alerts"]
        assert firing["rule"] == "HighErrorRate" and firing["clusters"] == [first]
        assert detail["windowsOverride"] is None

        # The same alert delivered again does nothing more.
        code, body = post_alert(stack, alert_body("Fired", first))
        assert (code, body["reason"]) == (200, "AlreadyFiring"), body

        # The cluster in flight finishes and is judged; nothing more is written while paused.
        stack.emulator.control.reconcile()
        eventually(
            lambda: (
                stack.records.clusters.get("baseline", cluster_id(first)).state
                is ClusterState.HEALTHY
            ),
            timeout=60,
            what=f"{first} judged healthy while paused",
        )
        time.sleep(4 * stack.poll_seconds)
        assert stack.writes() == at_pause
        assert stack.wait_state("r1", RolloutState.PAUSED).reason is Reason.ALERT_FIRED

        stack.emulator.control.set_flux(progression="immediate")
        code, body = post_alert(stack, alert_body("Resolved", first))
        assert (code, body["resumed"]) == (202, ["r1"]), body
        rollout = stack.wait_state("r1", RolloutState.SUCCEEDED, RolloutState.ROLLED_BACK)
        assert rollout.state is RolloutState.SUCCEEDED, rollout.message
        assert len({w["cluster"] for w in stack.writes()}) == 12
        said = [
            (e.reason, e.data["effect"])
            for e in stack.records.timeline.list("r1")
            if e.actor == "alert:HighErrorRate"
        ]
        assert said == [(Reason.ALERT_FIRED, "paused"), (Reason.ALERT_RESOLVED, "resumed")]
        code, detail = stack.host.request(
            "GET", "/api/rollouts/r1", headers={"x-functions-key": stack.host.function_key}
        )
        assert code == 200 and detail["alerts"] == [], detail


def test_on_fired_fail_fails_the_rollout_with_alert_fired_and_rolls_back(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        stack.register(waves=WAVES, alerts={"onFired": "fail"})
        stack.roll(GOOD, "r1")
        assert stack.wait_state("r1", RolloutState.SUCCEEDED).state is RolloutState.SUCCEEDED
        stack.emulator.control.set_flux(progression="manual")
        before = len(stack.writes())
        stack.roll(GOOD2, "r2")
        eventually(lambda: len(stack.writes()) > before, timeout=60, what="r2's first write")
        first = stack.writes()[before]["cluster"]

        code, body = post_alert(stack, alert_body("Fired", first, rule="PodCrashLooping"))
        assert (code, body["failed"]) == (202, ["r2"]), body
        stack.emulator.control.set_flux(progression="immediate")
        stack.emulator.control.reconcile()
        rollout = stack.wait_state("r2", RolloutState.FAILED, RolloutState.ROLLED_BACK)
        assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.ALERT_FIRED)
        assert f"alert 'PodCrashLooping' (Sev1) fired on cluster '{first}'" in rollout.message
        assert "restored" in rollout.message
        final = {w["cluster"]: w["commit"] for w in stack.writes()}
        assert set(final.values()) == {GOOD}
        assert [w["cluster"] for w in stack.writes() if w["commit"] == GOOD2] == [first]


# -- who may call, and what is refused ------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("alerts"), easy_auth=True) as running:
        yield running


def bearer(stack: Stack, *roles: str) -> str:
    return f"Bearer {stack.host.token('monitor@contoso.com', roles)}"


def test_without_the_function_key_the_host_refuses_an_alert(stack: Stack) -> None:
    code, _ = stack.host.request("POST", "/api/alerts", alert_body("Fired", "canary-1"))
    assert code == 401


def test_a_caller_without_the_operator_role_is_refused_naming_it(stack: Stack) -> None:
    reader = bearer(stack, "arcwave.Reader")
    headers = {"Authorization": reader}
    code, body = post_alert(stack, alert_body("Fired", "canary-1"), headers=headers)
    assert code == 403
    assert "reporting an alert needs the role arcwave.Operator" in body["error"]


@pytest.mark.parametrize("who", ["key", "operator"])
def test_an_alert_while_no_rollout_runs_is_ignored(stack: Stack, who: str) -> None:
    extra = {"Authorization": bearer(stack, "arcwave.Operator")} if who == "operator" else {}
    code, body = post_alert(stack, alert_body("Fired", "canary-1"), headers=extra)
    assert (code, body["reason"]) == (200, "NoRunningRollout"), body
    assert "alert 'HighErrorRate' (Fired) changes nothing" in body["ignored"]


def test_the_published_sample_unchanged_is_read_and_names_no_cluster(stack: Stack) -> None:
    code, body = post_alert(stack, raw=SAMPLE.read_bytes())
    assert (code, body["reason"]) == (200, "NoRunningRollout"), body


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda d: d.update(schemaId="AzureMonitorMetricAlert"), "schemaId"),
        (
            lambda d: d["data"]["essentials"].pop("monitorCondition"),
            "data.essentials.monitorCondition",
        ),
        (lambda d: d["data"]["essentials"].update(severity="critical"), "data.essentials.severity"),
    ],
)
def test_a_malformed_alert_is_a_400_naming_the_field(stack: Stack, change: Any, loc: str) -> None:
    body = alert_body("Fired", "canary-1")
    change(body)
    code, answer = post_alert(stack, body)
    assert code == 400, answer
    assert loc in [e["loc"] for e in answer["errors"]], answer


def test_a_body_that_is_not_json_is_a_400(stack: Stack) -> None:
    code, answer = post_alert(stack, raw=b"{not json")
    assert (code, answer["errors"][0]["type"]) == (400, "json"), answer


def test_a_body_over_256_kib_is_a_413_naming_the_limit(stack: Stack) -> None:
    body = alert_body("Fired", "canary-1")
    body["data"]["customProperties"] = {"padding": "x" * (256 * 1024)}
    code, answer = post_alert(stack, body)
    assert (code, answer["limit"]) == (413, 256 * 1024), answer
