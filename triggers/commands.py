"""Which operator commands a rollout accepts now, and why not when it does not."""

from shared.states import Command, RolloutState
from shared.store import RolloutRecord


def refusal(rollout: RolloutRecord, command: Command) -> str | None:
    """None when `command` applies to `rollout`; otherwise a sentence saying why not."""
    state, control = rollout.state, rollout.control
    what = f"rollout '{rollout.id}' is {state.value}"
    if state.is_terminal:
        return f"cannot {command.value}: {what} and will not change again"
    if command is Command.APPROVE and state is not RolloutState.WAITING_FOR_APPROVAL:
        return f"cannot approve: {what}, not waiting for approval"
    if command is Command.PAUSE and control.paused:
        return f"cannot pause: {what} and already asked to pause"
    if command is Command.RESUME and not control.paused:
        return f"cannot resume: {what}, not paused"
    if command is Command.ABORT and control.abort:
        return f"cannot abort: {what} and already aborting"
    if control.superseded and command is not Command.ABORT:
        return f"cannot {command.value}: {what} and being superseded by a newer revision"
    return None
