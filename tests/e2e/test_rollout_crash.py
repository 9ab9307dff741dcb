"""devhost killed mid-wave and started again on the same state: the rollout ends correctly,
no gate is skipped, and no cluster is ever written with a wrong revision."""

import time
from pathlib import Path

import pytest
from rollout_support import GOOD, GOOD2, running_stack, slow_canaries, written_at

from shared.states import RolloutState
from tests.support import eventually

pytestmark = pytest.mark.e2e


def test_a_killed_host_resumes_the_rollout_where_it_stopped(tmp_path: Path) -> None:
    with running_stack(tmp_path, faults=slow_canaries(factor=10)) as stack:
        stack.register()
        stack.roll(GOOD, "r1")
        stack.wait_state("r1", RolloutState.SUCCEEDED)
        stack.roll(GOOD2, "r2")
        stack.wait_state("r2", RolloutState.RUNNING)
        eventually(
            lambda: any(w["commit"] == GOOD2 for w in stack.writes()),
            timeout=30,
            interval=0.05,
            what="the canary wave started",
        )
        stack.host.kill()
        time.sleep(0.5)
        stack.host.start()
        rollout = stack.wait_state("r2", RolloutState.SUCCEEDED, RolloutState.FAILED)
        assert rollout.state is RolloutState.SUCCEEDED, rollout.message
        writes = [w for w in stack.writes() if w["commit"] == GOOD2]
        assert {w["commit"] for w in stack.writes()} == {GOOD, GOOD2}
        assert len({w["cluster"] for w in writes}) == 12
        canary_done = stack.wave_finished_at("r2", "canary")
        for write in writes:
            if not str(write["cluster"]).startswith("canary"):
                assert written_at(write) > canary_done
        entries = [e.id for e in stack.records.timeline.list("r2")]
        assert len(entries) == len(set(entries))
        for wave in ("canary", "early", "broad"):
            assert rollout.wave(wave).state.value == "Succeeded"
