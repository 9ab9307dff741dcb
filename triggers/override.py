"""`POST /api/rollouts/{id}/override-windows` (arcwave.Admin): the emergency override of a
rollout's maintenance windows.

Maintenance windows are part of the track spec, which only an Admin may change; lifting them
for a rollout is as strong as editing the spec, so it needs the same role. The body must say
why (`{"reason": "..."}`); the override is written into the rollout's control block
(`RolloutControl.windows_override`, once per rollout), recorded on its timeline with who and
why (reason `MaintenanceWindowOverridden`), and the rollout and its waves are woken: from then
on it writes and restores clusters whatever their windows say. docs/api.md has the shapes.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.contracts.orchestrations import CONTROL_EVENT
from shared.identity import Caller, Role
from shared.logs import fields
from shared.names import wave_instance
from shared.problems import InvalidInput, Problem
from shared.reasons import Reason
from shared.runtime import runtime
from shared.states import RolloutState
from shared.store import RolloutRecord
from shared.times import utc_now
from triggers.dispatch import wake
from triggers.http import answer, operation_route, read_json, refuse, require
from triggers.rollouts import find_rollout, refuse_if_gone

log = logging.getLogger("arcwave.triggers.override")
bp = df.Blueprint()

COMMAND = "override-windows"
MAX_REASON = 500
"""The most characters of an override's reason: a sentence or two, kept on the timeline."""


@operation_route(bp, "rollouts/{id}/override-windows", ["POST"], name="override_windows")
async def override_windows(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    rollout_id = req.route_params.get("id", "")
    actor = require(req, caller, Role.ADMIN, "overriding maintenance windows").name
    why = reason_of(read_json(req, "override request"))
    rollout = await find_rollout(rollout_id)
    if rollout is None:
        return refuse(404, f"no rollout '{rollout_id}'")
    if not rollout.state.is_terminal and rollout.state is not RolloutState.PENDING:
        gone = await refuse_if_gone(client, rollout, "override maintenance windows")
        if gone is not None:
            return gone

    def apply(current: RolloutRecord) -> RolloutRecord:
        return current.overriding_windows(actor, why, utc_now())

    records = runtime().records
    updated = await asyncio.to_thread(records.rollouts.update, rollout.track, rollout_id, apply)
    message = f"maintenance windows overridden by {actor}: {why}"
    await asyncio.to_thread(
        records.timeline.append,
        rollout_id,
        f"command/{COMMAND}",
        actor=actor,
        reason=Reason.MAINTENANCE_WINDOW_OVERRIDDEN,
        message=message,
        data={"command": COMMAND, "reason": why},
    )
    log.info(
        "decision %s",
        fields(
            rollout=rollout_id,
            track=rollout.track,
            step=f"command/{COMMAND}",
            reason=Reason.MAINTENANCE_WINDOW_OVERRIDDEN.value,
            actor=actor,
            message=message,
        ),
    )
    for instance in [rollout_id, *(wave_instance(rollout_id, w.name) for w in updated.waves)]:
        await wake(client, instance, CONTROL_EVENT, {"command": COMMAND, "by": actor})
    return answer(
        {
            "rolloutId": rollout_id,
            "command": COMMAND,
            "state": updated.state.value,
            "overriddenBy": actor,
        },
        202,
    )


def reason_of(body: object) -> str:
    """The override's reason: required text, at most `MAX_REASON` characters."""
    value = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            "override request",
            [
                Problem(
                    "reason",
                    "missing",
                    'say why the windows must be overridden: {"reason": "hotfix for CVE-…, '
                    'approved by …"}',
                    value,
                )
            ],
        )
    text = " ".join(value.split())
    if len(text) > MAX_REASON:
        raise InvalidInput(
            "override request",
            [
                Problem(
                    "reason",
                    "too_long",
                    f"at most {MAX_REASON} characters, got {len(text)}: keep the details in "
                    "your change record and name it here",
                    text[:40] + "…",
                )
            ],
        )
    return text
