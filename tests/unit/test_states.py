import re

import pytest

from shared.reasons import Reason
from shared.states import COMMANDS_ACCEPTED, Command, RolloutState, WaveState


def test_terminal_rollout_states() -> None:
    terminal = {s for s in RolloutState if s.is_terminal}
    assert terminal == {
        RolloutState.SUCCEEDED,
        RolloutState.FAILED,
        RolloutState.ROLLED_BACK,
        RolloutState.ABORTED,
        RolloutState.SUPERSEDED,
    }


@pytest.mark.parametrize("state", [s for s in RolloutState if s.is_terminal])
def test_no_command_applies_to_a_finished_rollout(state: RolloutState) -> None:
    assert not any(state.accepts(c) for c in Command)


@pytest.mark.parametrize(
    ("state", "command", "accepted"),
    [
        (RolloutState.WAITING_FOR_APPROVAL, Command.APPROVE, True),
        (RolloutState.RUNNING, Command.APPROVE, False),
        (RolloutState.RUNNING, Command.PAUSE, True),
        (RolloutState.PAUSED, Command.PAUSE, False),
        (RolloutState.PAUSED, Command.RESUME, True),
        (RolloutState.RUNNING, Command.RESUME, False),
        (RolloutState.PAUSED, Command.ABORT, True),
    ],
)
def test_commands_apply_only_where_they_make_sense(
    state: RolloutState, command: Command, accepted: bool
) -> None:
    assert state.accepts(command) is accepted


def test_every_command_has_its_states() -> None:
    assert set(COMMANDS_ACCEPTED) == set(Command)


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
