import re

import pytest

from shared.reasons import Reason
from shared.states import Command, RolloutState, WaveState
from shared.store import CommandRefused, RolloutControl, RolloutRecord, Trigger, WaveStatus
from shared.times import utc_now


def test_terminal_rollout_states() -> None:
    terminal = {s for s in RolloutState if s.is_terminal}
    assert terminal == {
        RolloutState.SUCCEEDED,
        RolloutState.FAILED,
        RolloutState.ROLLED_BACK,
        RolloutState.ABORTED,
        RolloutState.SUPERSEDED,
    }


def rollout(state: RolloutState, **control: object) -> RolloutRecord:
    return RolloutRecord(
        id="r1",
        track="baseline",
        revision="a" * 40,
        state=state,
        trigger=Trigger(kind="api", actor="ops"),
        control=RolloutControl(**control),
        waves=[WaveStatus(name="broad", state=WaveState.WAITING_FOR_APPROVAL)],
        created_at=utc_now(),
        updated_at=utc_now(),
    )


@pytest.mark.parametrize("state", [s for s in RolloutState if s.is_terminal])
def test_no_command_applies_to_a_finished_rollout(state: RolloutState) -> None:
    for command in Command:
        assert f"{state.value} and will not change again" in (rollout(state).refusal(command) or "")


@pytest.mark.parametrize(
    ("state", "control", "command", "accepted"),
    [
        (RolloutState.WAITING_FOR_APPROVAL, {}, Command.APPROVE, True),
        (RolloutState.RUNNING, {}, Command.APPROVE, False),
        (RolloutState.PENDING, {}, Command.PAUSE, True),
        (RolloutState.RUNNING, {}, Command.PAUSE, True),
        (RolloutState.PAUSED, {"paused": True}, Command.PAUSE, False),
        (RolloutState.PAUSED, {"paused": True}, Command.RESUME, True),
        (RolloutState.RUNNING, {"paused": True}, Command.RESUME, True),
        (RolloutState.RUNNING, {}, Command.RESUME, False),
        (RolloutState.PAUSED, {"paused": True}, Command.ABORT, True),
        (RolloutState.RUNNING, {"abort": True}, Command.ABORT, False),
        (RolloutState.RUNNING, {"superseded": True}, Command.PAUSE, False),
        (RolloutState.RUNNING, {"superseded": True}, Command.ABORT, True),
    ],
)
def test_commands_apply_only_where_they_make_sense(
    state: RolloutState, control: dict[str, bool], command: Command, accepted: bool
) -> None:
    assert (rollout(state, **control).refusal(command) is None) is accepted


def test_a_command_is_written_into_the_control_block_or_refused() -> None:
    now = utc_now()
    approved = rollout(RolloutState.WAITING_FOR_APPROVAL).commanded(Command.APPROVE, "ops", now)
    assert approved.control.approvals == {"broad": "ops"} and approved.updated_at == now
    aborting = rollout(RolloutState.RUNNING).commanded(Command.ABORT, "ops", now, rollback=True)
    assert (aborting.control.abort, aborting.control.rollback) == (True, True)
    with pytest.raises(CommandRefused, match="cannot resume: rollout 'r1' is Running, not paused"):
        rollout(RolloutState.RUNNING).commanded(Command.RESUME, "ops", now)


def test_wave_terminal_states() -> None:
    assert {s for s in WaveState if s.is_terminal} == {
        WaveState.SUCCEEDED,
        WaveState.FAILED,
        WaveState.ROLLED_BACK,
        WaveState.SKIPPED,
    }


@pytest.mark.parametrize("reason", list(Reason))
def test_reasons_are_camel_case_constants_named_after_themselves(reason: Reason) -> None:
    assert re.fullmatch(r"(?:[A-Z][a-z]+)+", reason.value)
    assert reason.name == re.sub(r"(?<!^)(?=[A-Z])", "_", reason.value).upper()
