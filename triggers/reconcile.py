"""The reconciliation: a timer (every 5 minutes) that no state stays wrong for ever.

- A rollout recorded as running (Running, WaitingForApproval, Paused) whose orchestration is
  not (failed, terminated, completed or gone) is handed to its track to be closed: the track
  records it Failed (`OrchestrationLost`) and applies its onFailure to what it changed.
- A rollout still Pending a while after it was handed over is handed to its track again
  (the track ignores a request it already queued or ran), so a hand-over that was cut short
  still leads to its rollout — unless a newer revision was handed over since (it is closed
  Superseded: it must never roll over the newer one), or its track was deleted (closed
  Aborted).
"""

import asyncio
import logging
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

from shared.names import recovery_instance
from shared.reasons import Reason
from shared.runtime import Runtime, runtime
from shared.states import RolloutState
from shared.store import RolloutRecord
from triggers.dispatch import (
    hand_over,
    hand_recovery,
    is_live,
    orchestration_outcome,
    orchestration_status,
)

log = logging.getLogger("arcwave.triggers.reconcile")
bp = df.Blueprint()

SCHEDULE = "0 */5 * * * *"
RUNNING = (RolloutState.RUNNING, RolloutState.WAITING_FOR_APPROVAL, RolloutState.PAUSED)
PENDING_GRACE = timedelta(minutes=5)
"""A rollout Pending for longer than this is handed over again."""


@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def reconcile_rollouts(
    timer: func.TimerRequest, client: df.DurableOrchestrationClient
) -> None:
    closing, again = await reconcile(client, runtime())
    # Every five minutes: INFO only when it acted (each rollout closed is a WARNING too).
    log.log(
        logging.INFO if closing or again else logging.DEBUG,
        "reconciliation: %d rollouts to close, %d handed over again%s",
        len(closing),
        len(again),
        " (late)" if timer.past_due else "",
    )


async def reconcile(
    client: df.DurableOrchestrationClient, rt: Runtime
) -> tuple[list[str], list[str]]:
    """The rollouts handed to their track to be closed, and those handed over again."""
    closing: list[str] = []
    for state in RUNNING:
        for rollout in await asyncio.to_thread(rt.records.rollouts.list, state=state):
            if await _orphaned(client, rollout):
                status, why = await orchestration_outcome(client, rollout.id)
                how = f"found {status or 'gone'} by the reconciliation" + (
                    f": {why}" if why else ""
                )
                await hand_recovery(client, rt.settings, rollout, how)
                closing.append(rollout.id)
    again: list[str] = []
    now = rt.now()
    for rollout in await asyncio.to_thread(rt.records.rollouts.list, state=RolloutState.PENDING):
        if now - rollout.created_at < PENDING_GRACE:
            continue
        if await _hand_again(client, rt, rollout):
            again.append(rollout.id)
    return closing, again


async def _orphaned(client: df.DurableOrchestrationClient, rollout: RolloutRecord) -> bool:
    """Recorded as running, but neither its orchestration nor a recovery of it runs."""
    if is_live(await orchestration_status(client, rollout.id)):
        return False
    return not is_live(await orchestration_status(client, recovery_instance(rollout.id)))


async def _hand_again(
    client: df.DurableOrchestrationClient, rt: Runtime, rollout: RolloutRecord
) -> bool:
    track = await asyncio.to_thread(rt.records.tracks.find, rollout.track)
    if track is None:
        why = f"never started: track '{rollout.track}' was deleted"
        await _close(rt, rollout, RolloutState.ABORTED, Reason.ABORTED, why)
        return False
    newer = [
        r
        for r in await asyncio.to_thread(rt.records.rollouts.list, rollout.track)
        if r.created_at > rollout.created_at and not r.clusters
    ]
    if newer:
        # Handing it over now could roll an older revision over a newer one.
        why = f"never started: rollout '{newer[-1].id}' was handed over since"
        await _close(rt, rollout, RolloutState.SUPERSEDED, Reason.SUPERSEDED, why)
        return False
    cause = rollout.trigger.delivery_id or rollout.id
    await hand_over(
        client,
        rt,
        track,
        rollout.revision,
        rollout.trigger,
        cause,
        clusters=rollout.clusters,
        known_id=rollout.id,
    )
    return True


async def _close(
    rt: Runtime, rollout: RolloutRecord, state: RolloutState, reason: Reason, message: str
) -> None:
    """Close a Pending rollout that will never run (unless it started meanwhile)."""

    def closed(current: RolloutRecord) -> RolloutRecord | None:
        if current.state is not RolloutState.PENDING:
            return None
        return current.model_copy(update={"state": state, "reason": reason, "message": message})

    await asyncio.to_thread(rt.records.rollouts.update, rollout.track, rollout.id, closed)
