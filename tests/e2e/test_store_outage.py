"""A store outage in the middle of a wave, end to end: the app's Cosmos DB (the stand-in) is
reached through a link the test cuts for longer than the retry horizon, then restores.

Everything is watched the way an operator's monitoring would: the operator API, and Azure's
own record of writes (the emulator's write log).
"""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rollout_support import GOOD, GOOD2, GOOD3, Stack, running_stack, track_spec

from shared.reasons import Reason
from shared.states import RolloutState
from tests.cosmos_standin import CosmosStandIn
from tests.outage import CuttableLink
from tests.support import poll

pytestmark = pytest.mark.e2e

T = TypeVar("T")

RETRY = {
    "ARCWAVE_RETRY_FIRST_SECONDS": "0.5",
    "ARCWAVE_RETRY_MAX_INTERVAL_SECONDS": "2",
    "ARCWAVE_RETRY_HORIZON_SECONDS": "10",
    "ARCWAVE_POLL_SECONDS": "0.5",
}
SLOW_BROAD = {"slow": [{"clusters": "store-*", "factor": 20}]}
"""Broad clusters take seconds to reconcile: the outage lands while the wave is writing."""
OUTAGE_SECONDS = 25.0
"""Longer than the horizon: steps that run into the outage exhaust their retries."""
SETTLE_SECONDS = 20.0
"""How long the app gets to close the rollout by itself before the reconciliation is run."""
OPEN_STATES = {s.value for s in RolloutState if not s.is_terminal}
CLOSED_BY = {
    Reason.STEP_FAILED.value: "step '",
    Reason.ORCHESTRATION_LOST.value: "its orchestration ended without recording the end",
}
"""How the rollout's message begins for each reason it may end with."""


@dataclass
class Outage:
    """The running stack, the link to its store, and how the test looks at them."""

    stack: Stack
    link: CuttableLink
    """Between the app and its store."""
    reconciled: bool = False
    """Whether the test had to run the reconciliation timer."""

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        host = self.stack.host
        return host.request(
            method, f"/api/{path}", body, headers={"x-functions-key": host.function_key}
        )

    def read(self, path: str) -> Any:
        """GET `path`, or None while the store is unreachable (503)."""
        code, body = self.api("GET", path)
        if code == 503:
            return None
        assert code == 200, (code, body)
        return body

    def start(self, revision: str) -> dict[str, Any]:
        code, body = self.api("POST", "tracks/baseline/rollouts", {"revision": revision})
        assert code == 202, body
        return dict(body)

    def poll(self, check: Callable[[], T | None], timeout: float) -> T | None:
        """`check()`'s first truthy answer, or None after `timeout` seconds."""
        return poll(check, timeout=timeout, interval=0.2)

    def until(self, check: Callable[[], T | None], what: str, timeout: float) -> T:
        found = self.poll(check, timeout)
        assert found, f"{what}: not within {timeout}s\n{self.stack.host.output()[-6000:]}"
        return found

    def ended(self, rollout_id: str, timeout: float) -> dict[str, Any] | None:
        """The rollout once it has ended, or None if it has not within `timeout`."""
        return self.poll(lambda: self._ended(rollout_id), timeout)

    def _ended(self, rollout_id: str) -> dict[str, Any] | None:
        detail = self.read(f"rollouts/{rollout_id}")
        return detail if detail and detail["state"] not in OPEN_STATES else None

    def reconcile(self) -> None:
        """Run the reconciliation timer now, as the Functions host does every 5 minutes."""
        host = self.stack.host
        code, body = host.request(
            "POST", f"/admin/functions/reconcile_rollouts?code={host.function_key}", {}
        )
        assert code == 202, body
        self.reconciled = True

    def writing_broad(self, rollout_id: str) -> bool:
        detail = self.read(f"rollouts/{rollout_id}") or {"waves": []}
        [broad] = [w for w in detail["waves"] if w["name"] == "broad"] or [{}]
        written = [c for c in broad.get("clusters", []) if c["writtenAt"] is not None]
        return broad.get("state") in ("Applying", "Progressing") and bool(written)

    def final_commits(self) -> dict[str, str]:
        """Each cluster's commit after its last successful write, from Azure's side."""
        final = {}
        for write in self.stack.emulator.control.writes():
            if write["status"] < 400:
                final[write["cluster"]] = write["commit"]
        return final


@pytest.fixture
def outage(tmp_path: Path, cosmos_standin: CosmosStandIn) -> Iterator[Outage]:
    with CuttableLink(cosmos_standin.address) as link:
        env = cosmos_standin.app_settings(
            f"arcwave-{uuid.uuid4().hex[:12]}", endpoint=f"https://{link.host}:{link.port}/"
        )
        with running_stack(tmp_path, env={**env, **RETRY}, faults=SLOW_BROAD) as stack:
            yield Outage(stack, link)


def test_a_store_outage_mid_wave_fails_the_rollout_and_rolls_it_back(outage: Outage) -> None:
    code, body = outage.api("PUT", "tracks/baseline", track_spec())
    assert code == 201, body
    assert outage.link.accepted > 0, "the app must reach its store through the link"
    first = outage.start(GOOD)["rolloutId"]
    done = outage.ended(first, 60)
    assert done is not None and done["state"] == "Succeeded", done

    second = outage.start(GOOD2)["rolloutId"]
    outage.until(lambda: outage.writing_broad(second), "broad wave writing", 30)
    with outage.link.outage():
        back = time.monotonic() + OUTAGE_SECONDS
        outage.until(lambda: outage.api("GET", "tracks/baseline")[0] == 503, "a 503", 15)
        outage.stack.emulator.control.patch_faults(slow=[])  # the rollback need not wait
        time.sleep(max(0.0, back - time.monotonic()))

    rollout = outage.ended(second, SETTLE_SECONDS)
    if rollout is None:
        outage.reconcile()
        rollout = outage.ended(second, 45)
    assert rollout is not None, (
        f"{second} still open after the reconciliation\n{outage.stack.host.output()[-6000:]}"
    )
    assert rollout["state"] == "Failed", (outage.reconciled, rollout)
    assert rollout["reason"] in CLOSED_BY, (outage.reconciled, rollout)
    assert rollout["message"].startswith(CLOSED_BY[rollout["reason"]]), rollout["message"]
    assert "restored" in rollout["message"] and "unrestored" not in rollout["message"]
    assert {w["name"]: w["state"] for w in rollout["waves"]} == {
        "canary": "RolledBack",
        "early": "RolledBack",
        "broad": "RolledBack",
    }
    timeline = [e["reason"] for e in outage.read(f"rollouts/{second}/timeline")["timeline"]]
    assert rollout["reason"] in timeline and "RollingBack" in timeline, timeline

    listing = outage.read("rollouts?track=baseline")["rollouts"]
    assert [r["state"] for r in listing if r["state"] in OPEN_STATES] == []
    assert outage.read("tracks/baseline")["activeRolloutId"] is None

    final = outage.final_commits()
    changed = {w["cluster"] for w in outage.stack.emulator.control.writes() if w["commit"] == GOOD2}
    assert any(name.startswith("store-") for name in changed), changed
    assert set(final.values()) == {GOOD}, final
    fleet = {c["name"]: c for c in outage.read("fleet?track=baseline")["clusters"]}
    assert {c["lastGoodRevision"] for c in fleet.values()} == {GOOD}
    assert {fleet[name]["desiredRevision"] for name in changed} == {GOOD}

    third = outage.start(GOOD3)
    assert third["queued"] is False, third
    done = outage.ended(third["rolloutId"], 60)
    assert done is not None and done["state"] == "Succeeded", done
    assert set(outage.final_commits().values()) == {GOOD3}
    assert outage.read("tracks/baseline")["activeRolloutId"] is None
