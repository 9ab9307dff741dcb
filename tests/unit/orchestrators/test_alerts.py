"""Alerts halt rollouts, through the real trigger code, orchestrators and activities on a
virtual clock: a fired alert pauses the wave writing now within one poll interval and nothing
more is written; its resolution resumes when the track says so; `onFired: fail` ends the
rollout Failed (AlertFired) and rolls back what it wrote."""

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.alerts import read_alert
from shared.reasons import Reason
from shared.states import RolloutState
from tests.unit.orchestrators.world import GOOD, GOOD2, EngineClient, Harness, cluster_id
from triggers.alerts import deliver

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

SAMPLE = Path(__file__).resolve().parents[2] / "payloads" / "azure-monitor-common-alert.json"


def send(h: Harness, condition: str, name: str, rule: str = "HighErrorRate") -> dict[str, Any]:
    """Deliver the published sample alert, fired or resolved on cluster `name` (its id as
    Azure sends it: lower-cased), as the trigger does."""
    data = json.loads(SAMPLE.read_text())
    data["data"]["essentials"].update(
        alertRule=rule,
        alertId=f"/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{rule}",
        monitorCondition=condition,
        severity="Sev1",
        alertTargetIDs=[cluster_id(name).lower()],
    )
    body, _ = asyncio.run(deliver(EngineClient(h.engine), h.world.rt, read_alert(data), "pytest"))
    return body


def one_at_a_time(h: Harness, **alerts: Any) -> None:
    h.world.register(waves=[{"name": "all", "maxConcurrency": 1}], alerts=alerts)


def test_a_fired_alert_pauses_the_wave_within_one_poll_and_nothing_more_is_written(
    h: Harness,
) -> None:
    one_at_a_time(h, resumeOnResolved=True)
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: len(h.fleet.writes) == 1)
    fired_at = h.now()
    answer = send(h, "Fired", h.fleet.writes[0].cluster)
    assert answer["paused"] == ["r1"], answer
    rollout = h.settle("r1", "Paused")
    assert h.now() - fired_at <= timedelta(seconds=h.poll_seconds)
    assert rollout.reason is Reason.ALERT_FIRED
    assert rollout.message.startswith("paused by alert:HighErrorRate")
    h.run_for(timedelta(hours=1))
    assert len(h.fleet.writes) == 1 and h.state_of("r1") == "Paused"
    entries = h.records.timeline.list("r1")
    fired = [e for e in entries if e.actor == "alert:HighErrorRate"]
    assert [e.reason for e in fired] == [Reason.ALERT_FIRED]
    assert "fired on cluster 'canary-1'" in fired[0].message
    answer = send(h, "Resolved", h.fleet.writes[0].cluster)
    assert answer["resumed"] == ["r1"], answer
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED
    assert len(h.fleet.writes) == 8
    resolved = [e for e in h.records.timeline.list("r1") if e.reason is Reason.ALERT_RESOLVED]
    assert resolved[0].actor == "alert:HighErrorRate"


def test_an_alert_on_a_cluster_the_rollout_has_not_written_is_ignored(h: Harness) -> None:
    one_at_a_time(h)
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: len(h.fleet.writes) == 1)
    answer = send(h, "Fired", "store-6")
    assert answer["reason"] == "NoMatchingCluster", answer
    assert h.settle("r1", "Succeeded").state is RolloutState.SUCCEEDED


def test_no_running_rollout_means_the_alert_is_ignored(h: Harness) -> None:
    answer = send(h, "Fired", "canary-1")
    assert answer["reason"] == "NoRunningRollout"
    assert "changes nothing: no rollout is running" in answer["ignored"]


def test_on_fired_fail_fails_the_rollout_and_rolls_back_what_it_wrote(h: Harness) -> None:
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    one_at_a_time(h, onFired="fail")
    h.roll(GOOD2, "r2")
    h.engine.run_until(lambda: sum(w.commit == GOOD2 for w in h.fleet.writes) == 2)
    answer = send(h, "Fired", "canary-1", rule="PodCrashLooping")
    assert answer["failed"] == ["r2"], answer
    rollout = h.settle("r2", "Failed", "RolledBack", "Succeeded")
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.ALERT_FIRED)
    assert "alert 'PodCrashLooping' (Sev1) fired on cluster 'canary-1'" in rollout.message
    assert "restored" in rollout.message
    assert {c.configurations["baseline"].commit for c in h.fleet.clusters.values()} == {GOOD}
    assert sum(w.commit == GOOD2 for w in h.fleet.writes) == 2
    assert Reason.ROLLING_BACK in [e.reason for e in h.records.timeline.list("r2")]
