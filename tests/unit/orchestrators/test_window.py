"""The in-flight window: caps bound the clusters between write and verdict at every instant,
a freed slot is filled at once, a spent failure budget stops the writes, and each cluster's
progress deadline runs from its own write."""

import itertools

import pytest

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.unit.orchestrators.world import BAD, GOOD, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def broad_fleet(h: Harness, count: int = 12, sites: int = 3) -> None:
    for i in range(1, count + 1):
        h.fleet.add(f"edge-{i:02d}", ring="edge", site=f"site-{i % sites}")


def test_max_concurrency_one_keeps_one_cluster_at_risk_at_a_time(h: Harness) -> None:
    h.world.register(waves=[{"name": "all", "maxConcurrency": 1}])
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    assert h.in_flight_peaks("r1", "all", GOOD)[0] == 1
    times = [w.time for w in h.fleet.writes]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= h.fleet.reconcile_seconds  # the next write waits for a verdict
    assert max(gaps) <= h.fleet.reconcile_seconds + h.poll_seconds + 0.1  # and not longer


def test_both_caps_hold_at_every_instant_and_the_window_stays_full(h: Harness) -> None:
    broad_fleet(h)
    for name, seconds in (("edge-01", 9.0), ("edge-05", 7.0), ("edge-08", 5.0)):
        h.fleet.slow[name] = seconds
    h.world.register(
        waves=[
            {
                "name": "edge",
                "selector": {"ring": "edge"},
                "maxConcurrency": 3,
                "perSiteConcurrency": 1,
            },
            {"name": "rest"},
        ]
    )
    h.roll(GOOD, "r1")
    assert h.settle("r1", "Succeeded", "Failed").state is RolloutState.SUCCEEDED
    peak, peak_site = h.in_flight_peaks("r1", "edge", GOOD)
    assert (peak, peak_site) == (3, 1)
    edge = h.records.clusters.list("baseline", rollout="r1", wave="edge")
    # Slow clusters do not hold the others back: the wave is done well before 12 rounds of 2s
    # plus the slow ones would take in fixed batches.
    first = min(r.written_at for r in edge)
    last = max(r.settled_at for r in edge)
    assert (last - first).total_seconds() < 4 * (h.fleet.reconcile_seconds + h.poll_seconds) + 9


def test_a_percentage_cap_is_a_share_of_the_wave(h: Harness) -> None:
    broad_fleet(h, count=10)
    h.world.register(
        waves=[
            {"name": "edge", "selector": {"ring": "edge"}, "maxConcurrency": "20%"},
            {"name": "rest"},
        ]
    )
    h.roll(GOOD, "r1")
    h.settle("r1", "Succeeded")
    assert h.in_flight_peaks("r1", "edge", GOOD)[0] == 2


def test_a_canary_with_budget_zero_writes_no_second_cluster_after_a_failure(h: Harness) -> None:
    h.world.register(
        waves=[
            {
                "name": "canary",
                "selector": {"ring": "canary"},
                "maxConcurrency": 1,
                "maxFailures": 0,
            },
            {"name": "broad"},
        ]
    )
    h.roll(BAD, "r1")
    rollout = h.settle("r1", "RolledBack", "Failed")
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    assert [(w.cluster, w.commit) for w in h.fleet.writes if w.method == "PUT"] == [
        ("canary-1", BAD)
    ]
    never = h.records.clusters.get("baseline", h.fleet.named("canary-2").id)
    assert never.state is ClusterState.PENDING
    assert never.reason is Reason.FAILURE_BUDGET_EXCEEDED
    assert "not written" in never.message


def test_a_budget_of_one_stops_writing_at_the_second_failure(h: Harness) -> None:
    h.fleet.failing = [("bad0", "store-*")]
    h.world.register(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "maxConcurrency": 1, "maxFailures": 1},
        ]
    )
    h.roll(BAD, "r1")
    h.settle("r1", "RolledBack", "Failed")
    broad = [w.cluster for w in h.fleet.writes if w.commit == BAD and w.cluster.startswith("store")]
    assert len(broad) == 2


def test_an_offline_cluster_is_skipped_and_frees_its_slot(h: Harness) -> None:
    h.fleet.named("store-3").connectivity = h.fleet.named("store-3").connectivity.OFFLINE
    h.world.register(
        waves=[
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "broad", "maxConcurrency": 1},
        ]
    )
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed")
    assert rollout.wave("broad").counts == {ClusterState.HEALTHY: 5, ClusterState.SKIPPED: 1}
    assert "store-3" not in {w.cluster for w in h.fleet.writes}
    skipped = h.records.clusters.get("baseline", h.fleet.named("store-3").id)
    assert skipped.reason is Reason.SKIPPED_OFFLINE and skipped.settled_at is not None


def test_the_progress_deadline_runs_from_each_cluster_s_own_write(h: Harness) -> None:
    h.world.register(
        waves=[{"name": "all", "maxConcurrency": 1, "maxFailures": 1}], progressDeadline="5s"
    )
    h.fleet.slow["store-4"] = 60.0
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", "Succeeded", "Failed", "RolledBack")
    # Eight clusters one after another take far longer than 5s; only the slow one misses.
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    slow = h.records.clusters.get("baseline", h.fleet.named("store-4").id)
    assert (slow.state, slow.reason) == (ClusterState.FAILED, Reason.PROGRESS_DEADLINE_EXCEEDED)
    assert rollout.wave("all").counts == {ClusterState.HEALTHY: 7, ClusterState.FAILED: 1}
