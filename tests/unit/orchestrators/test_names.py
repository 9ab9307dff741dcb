"""Instance ids fit the Durable Task Scheduler (at most 100 characters; devhost refuses longer
ones as the scheduler does) with the longest legal track and wave names."""

import pytest

from shared.names import MAX_INSTANCE_ID, rollout_id, wave_instance
from shared.states import RolloutState
from tests.unit.orchestrators.world import BAD, GOOD, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

TRACK = "t" * 63
CANARY = "canary-" + "c" * 56
BROAD = "broad-" + "b" * 57


def test_63_character_names_roll_out_and_roll_back(h: Harness) -> None:
    h.world.register(
        name=TRACK,
        waves=[{"name": CANARY, "selector": {"ring": "canary"}}, {"name": BROAD}],
    )
    good = rollout_id(TRACK, GOOD, "push-1")
    bad = rollout_id(TRACK, BAD, "push-2")
    h.roll(GOOD, good, track_name=TRACK)
    done = h.settle(good, "Succeeded", "Failed", "RolledBack", track_name=TRACK)
    assert done.state is RolloutState.SUCCEEDED, done.message
    h.roll(BAD, bad, track_name=TRACK)
    back = h.settle(bad, "Succeeded", "Failed", "RolledBack", track_name=TRACK)
    assert back.state is RolloutState.ROLLED_BACK, back.message
    ids = h.engine.instance_ids
    assert wave_instance(bad, CANARY, rollback=True) in ids
    assert max(len(i) for i in ids) <= MAX_INSTANCE_ID
    # the track, two rollouts, three waves (the bad one stopped at its canary), one rollback
    assert len(ids) == len(set(ids)) == 7


def test_devhost_refuses_an_id_the_scheduler_would(h: Harness) -> None:
    from devhost.durable.engine import EngineError

    with pytest.raises(EngineError, match="100"):
        h.engine.start("track_orchestrator", "x" * 101, None)
