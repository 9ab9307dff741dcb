"""The track orchestrator: one rollout at a time, newer revisions coalesce, `restart` stops
the running rollout at a safe point, catch-ups keep their order, and a track edited while a
rollout runs changes only the next rollout."""

import pytest

from shared.reasons import Reason
from shared.states import RolloutState
from tests.unit.orchestrators.world import GOOD, GOOD2, GOOD3, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

TERMINAL = ("Succeeded", "Failed", "RolledBack", "Aborted", "Superseded")
SOAKING_CANARY = [
    {"name": "canary", "selector": {"ring": "canary"}, "soak": "10m"},
    {"name": "broad"},
]


def test_revisions_queued_behind_a_rollout_coalesce_to_the_newest(h: Harness) -> None:
    h.world.register(waves=SOAKING_CANARY)
    h.roll(GOOD, "r1")
    h.settle("r1", "Running")
    h.roll(GOOD2, "r2")
    h.roll(GOOD3, "r3")
    h.roll(GOOD2, "r2")  # a re-sent request changes nothing
    assert h.settle("r1", *TERMINAL).state is RolloutState.SUCCEEDED
    skipped = h.settle("r2", *TERMINAL)
    assert (skipped.state, skipped.reason) == (RolloutState.SUPERSEDED, Reason.SUPERSEDED)
    assert "never started" in skipped.message
    assert h.settle("r3", *TERMINAL).state is RolloutState.SUCCEEDED
    assert GOOD2 not in {w.commit for w in h.fleet.writes}
    assert h.records.tracks.get("baseline").last_good_revision == GOOD3


def test_supersede_restart_stops_the_running_rollout_at_a_safe_point(h: Harness) -> None:
    h.world.register(waves=SOAKING_CANARY, supersede="restart")
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "Soaking")
    h.roll(GOOD2, "r2")
    stopped = h.settle("r1", *TERMINAL)
    assert stopped.state is RolloutState.SUPERSEDED
    assert not [w for w in h.fleet.writes if w.commit == GOOD and w.cluster.startswith("store")]
    assert h.settle("r2", *TERMINAL).state is RolloutState.SUCCEEDED


def test_catch_ups_run_in_order_and_never_replace_a_revision(h: Harness) -> None:
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    h.world.register(waves=SOAKING_CANARY)
    h.roll(GOOD2, "r2")
    h.settle("r2", "Running")
    store = h.fleet.named("store-1").id
    h.roll(GOOD, "c1", clusters=[store])
    h.roll(GOOD3, "r3")
    assert h.settle("r2", *TERMINAL).state is RolloutState.SUCCEEDED
    assert h.settle("c1", *TERMINAL).state is RolloutState.SUCCEEDED
    assert h.settle("r3", *TERMINAL).state is RolloutState.SUCCEEDED
    catch_up = h.records.rollouts.get("baseline", "c1")
    assert [(w.name, w.counts) for w in catch_up.waves] == [("catch-up", {"Healthy": 1})]
    r2_started = min(w.time for w in h.fleet.writes if w.commit == GOOD2)
    assert [w.cluster for w in h.fleet.writes if w.commit == GOOD and w.time > r2_started] == [
        "store-1"
    ]
    # r3 came after the catch-up was queued, yet ran after it: nothing jumps the queue.
    assert min(w.time for w in h.fleet.writes if w.commit == GOOD3) > r2_started


def test_a_caught_up_cluster_says_so(h: Harness) -> None:
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    store = h.fleet.named("store-1").id
    h.roll(GOOD, "c1", clusters=[store])
    assert h.settle("c1", *TERMINAL).state is RolloutState.SUCCEEDED
    caught = h.records.clusters.get("baseline", store)
    assert (caught.state, caught.reason, caught.last_rollout_id) == ("Healthy", "CaughtUp", "c1")


def test_a_track_edited_mid_rollout_changes_only_the_next_rollout(h: Harness) -> None:
    h.world.register(waves=SOAKING_CANARY)
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: h.wave_state("r1", "canary") == "Soaking")
    edited = {"infra": {"path": "./infra-v2", "prune": True}}
    h.world.register(
        waves=[{"name": "all", "maxConcurrency": 1}],
        configuration={"name": "baseline", "kustomizations": edited},
    )
    first = h.settle("r1", *TERMINAL)
    assert first.state is RolloutState.SUCCEEDED
    assert [w.name for w in first.waves] == ["canary", "broad"]
    written = {c.name: c.configurations["baseline"].body for c in h.fleet.clusters.values()}
    assert {b["properties"]["kustomizations"]["infra"]["path"] for b in written.values()} == {
        "./infra"
    }
    h.roll(GOOD2, "r2")
    second = h.settle("r2", *TERMINAL)
    assert [w.name for w in second.waves] == ["all"]
    assert {
        c.configurations["baseline"].body["properties"]["kustomizations"]["infra"]["path"]
        for c in h.fleet.clusters.values()
    } == {"./infra-v2"}
    assert second.spec_version != first.spec_version


def test_a_rollback_writes_the_spec_the_rollout_was_planned_with(h: Harness) -> None:
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    h.world.register(waves=SOAKING_CANARY)
    h.roll(GOOD2, "r2")
    h.engine.run_until(lambda: h.wave_state("r2", "canary") == "Soaking")
    h.world.register(configuration={"name": "baseline", "kustomizations": {"x": {"path": "./x"}}})
    h.command("r2", abort=True, rollback=True)
    h.settle("r2", *TERMINAL)
    for name in ("canary-1", "canary-2"):
        body = h.fleet.named(name).configurations["baseline"].body
        assert list(body["properties"]["kustomizations"]) == ["infra"]
        assert body["properties"]["gitRepository"]["repositoryRef"]["commit"] == GOOD
