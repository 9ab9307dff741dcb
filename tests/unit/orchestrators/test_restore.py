"""Never destroy what arcwave did not create: a rollback puts back the configuration arcwave
found before its first write, deletes only what it created, and says which it did."""

import pytest

from shared.reasons import Reason
from shared.states import ClusterState, RestoreKind, RolloutState
from tests.support import HAND_MADE_CONFIGURATION
from tests.unit.orchestrators.world import BAD, GOOD, FakeConfiguration, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

TERMINAL = ("Succeeded", "Failed", "RolledBack", "Aborted", "Superseded")


def test_a_failed_first_rollout_puts_back_what_it_found(h: Harness) -> None:
    canary = h.fleet.named("canary-1")
    canary.configurations["baseline"] = FakeConfiguration(body=HAND_MADE_CONFIGURATION, written=0.0)
    h.roll(BAD, "r1")
    rollout = h.settle("r1", *TERMINAL)
    assert rollout.state is RolloutState.ROLLED_BACK, rollout.message
    assert canary.configurations["baseline"].body == HAND_MADE_CONFIGURATION
    assert "baseline" not in h.fleet.named("canary-2").configurations
    restored = h.records.clusters.get("baseline", canary.id)
    removed = h.records.clusters.get("baseline", h.fleet.named("canary-2").id)
    assert (restored.state, restored.restoring) == (ClusterState.ROLLED_BACK, RestoreKind.ORIGINAL)
    assert (removed.state, removed.restoring) == (ClusterState.ROLLED_BACK, RestoreKind.REMOVAL)
    [entry] = [e for e in h.records.timeline.list("r1") if e.data.get("waveState") == "RolledBack"]
    assert entry.reason is Reason.ROLLED_BACK
    assert "1 given the configuration found before arcwave" in entry.message
    assert "1 removed (arcwave created them)" in entry.message
    assert [w.method for w in h.fleet.writes if w.cluster == "canary-2"] == ["PUT", "DELETE"]


def test_the_restore_point_outlives_failed_rollouts_until_one_succeeds(h: Harness) -> None:
    canary = h.fleet.named("canary-1")
    canary.configurations["baseline"] = FakeConfiguration(body=HAND_MADE_CONFIGURATION, written=0.0)
    h.roll(BAD, "r1")
    h.settle("r1", *TERMINAL)
    h.roll(BAD, "r2")
    assert h.settle("r2", *TERMINAL).state is RolloutState.ROLLED_BACK
    assert canary.configurations["baseline"].body == HAND_MADE_CONFIGURATION
    h.roll(GOOD, "r3")
    assert h.settle("r3", *TERMINAL).state is RolloutState.SUCCEEDED
    record = h.records.clusters.get("baseline", canary.id)
    assert record.last_good_revision == GOOD
    h.roll(BAD, "r4")
    h.settle("r4", *TERMINAL)
    # With a good revision of its own, a rollback goes there, not to what arcwave first found.
    assert canary.configurations["baseline"].commit == GOOD
