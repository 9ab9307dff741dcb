"""The operator API on rollouts and the fleet (function key; who may do what:
`shared.identity`).

    GET /api/rollouts?track=&state=, GET /api/rollouts/{id}[/timeline], GET /api/fleet?track=
                                                              arcwave.Reader
    POST /api/rollouts/{id}/pause|resume|abort|rollback        arcwave.Operator
    POST /api/rollouts/{id}/approve                            arcwave.Approver

A command is checked against the rollout it finds (`RolloutRecord.refusal`), written into its
control block, then its orchestrations are woken to act on it. `rollback` is not a command to
a running rollout: it starts a new rollout of the revision that was good before a finished
one (`_roll_back`). docs/api.md has every shape.
"""

import asyncio
import logging
import uuid

import azure.durable_functions as df
import azure.functions as func

from shared.contracts.orchestrations import CONTROL_EVENT
from shared.forecast import rollout_eta, write_budget
from shared.identity import Caller, Role
from shared.names import wave_instance
from shared.problems import InvalidInput, Problem
from shared.reasons import Reason
from shared.reconcile_time import learned_reconcile
from shared.revision import short_revision
from shared.runtime import runtime
from shared.states import Command, RolloutState
from shared.store import RolloutRecord, Trigger
from shared.times import format_time, utc_now
from triggers.dispatch import (
    hand_over,
    hand_recovery,
    is_live,
    orchestration_status,
    wake,
)
from triggers.http import answer, operation_route, read_json, refuse, require
from triggers.views import cluster_view, rollout_detail, rollout_summary

log = logging.getLogger("arcwave.triggers.rollouts")
bp = df.Blueprint()

ROLLBACK = "rollback"
"""`POST /api/rollouts/{id}/rollback`: undo a finished rollout."""
_ROLES = {
    Command.APPROVE: Role.APPROVER,
    Command.PAUSE: Role.OPERATOR,
    Command.RESUME: Role.OPERATOR,
    Command.ABORT: Role.OPERATOR,
}
_REASONS = {
    Command.APPROVE: Reason.APPROVED,
    Command.PAUSE: Reason.PAUSED,
    Command.RESUME: Reason.RESUMED,
    Command.ABORT: Reason.ABORTED,
}


# -- rollouts -------------------------------------------------------------------------------


@operation_route(bp, "rollouts", ["GET"], name="list_rollouts")
async def list_rollouts(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    require(req, caller, Role.READER, "reading rollouts")
    track = req.params.get("track") or None
    state_text = req.params.get("state") or None
    state = None
    if state_text is not None:
        try:
            state = RolloutState(state_text)
        except ValueError:
            allowed = ", ".join(s.value for s in RolloutState)
            raise InvalidInput(
                "query",
                [
                    Problem(
                        "state",
                        "enum",
                        f"'{state_text}' is not a rollout state; use one of {allowed}",
                        state_text,
                    )
                ],
            ) from None
    rollouts = await asyncio.to_thread(runtime().records.rollouts.list, track=track, state=state)
    return answer({"rollouts": [rollout_summary(r) for r in rollouts]})


@operation_route(bp, "rollouts/{id}", ["GET"], name="get_rollout")
async def get_rollout(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    require(req, caller, Role.READER, "reading a rollout")
    rollout = await find_rollout(req.route_params.get("id", ""))
    if rollout is None:
        return refuse(404, f"no rollout '{req.route_params.get('id', '')}'")
    rt = runtime()
    if rollout.state.is_terminal:
        clusters = await asyncio.to_thread(
            rt.records.clusters.list, rollout.track, rollout=rollout.id
        )
        return answer({**rollout_detail(rollout, clusters), "eta": None})
    # A running rollout's ETA learns from the whole track's clusters (its own among them).
    track = await asyncio.to_thread(rt.records.clusters.list, rollout.track)
    clusters = [c for c in track if c.last_rollout_id == rollout.id]
    budget = write_budget(rt.settings)
    learned = learned_reconcile(track)
    eta = await asyncio.to_thread(rollout_eta, rollout, clusters, budget, learned, utc_now())
    return answer({**rollout_detail(rollout, clusters), "eta": eta.to_wire() if eta else None})


@operation_route(bp, "rollouts/{id}/timeline", ["GET"], name="rollout_timeline")
async def rollout_timeline(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    require(req, caller, Role.READER, "reading a timeline")
    rollout_id = req.route_params.get("id", "")
    rollout = await find_rollout(rollout_id)
    if rollout is None:
        return refuse(404, f"no rollout '{rollout_id}'")
    entries = await asyncio.to_thread(runtime().records.timeline.list, rollout_id)
    return answer(
        {
            "rolloutId": rollout_id,
            "timeline": [
                {
                    "time": format_time(e.time),
                    "actor": e.actor,
                    "reason": e.reason.value,
                    "message": e.message,
                    "data": e.data,
                }
                for e in entries
            ],
        }
    )


@operation_route(bp, "rollouts/{id}/{command:alpha}", ["POST"], name="rollout_command")
async def rollout_command(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    rollout_id = req.route_params.get("id", "")
    named = req.route_params.get("command", "")
    if named == ROLLBACK:
        who = require(req, caller, Role.OPERATOR, "rolling back a rollout")
        return await _roll_back(req, client, rollout_id, who)
    try:
        command = Command(named)
    except ValueError:
        return refuse(
            404, f"unknown command '{named}': use approve, pause, resume, abort or rollback"
        )
    actor = require(req, caller, _ROLES[command], f"{command.value} a rollout").name
    body = read_json(req, f"{command.value} request", required=False)
    rollback = False
    if command is Command.ABORT and isinstance(body, dict) and "rollback" in body:
        rollback = _flag(body, "rollback", "abort request")
    rollout = await find_rollout(rollout_id)
    if rollout is None:
        return refuse(404, f"no rollout '{rollout_id}'")
    problem = rollout.refusal(command)
    if problem:
        return refuse(409, problem, state=rollout.state.value)
    if rollout.state is not RolloutState.PENDING:
        gone = await refuse_if_gone(client, rollout, command.value)
        if gone is not None:
            return gone

    def apply(current: RolloutRecord) -> RolloutRecord:
        return current.commanded(command, actor, utc_now(), rollback=rollback)

    records = runtime().records
    updated = await asyncio.to_thread(records.rollouts.update, rollout.track, rollout_id, apply)
    message = f"{command.value} by {actor}" + (" with rollback" if rollback else "")
    await asyncio.to_thread(
        records.timeline.append,
        rollout_id,
        f"command/{command.value}/{uuid.uuid4().hex}",
        actor=actor,
        reason=_REASONS[command],
        message=message,
        data={"command": command.value, "rollback": rollback},
    )
    for instance in [rollout_id, *(wave_instance(rollout_id, w.name) for w in updated.waves)]:
        await wake(client, instance, CONTROL_EVENT, {"command": command.value, "by": actor})
    return answer(
        {"rolloutId": rollout_id, "command": command.value, "state": updated.state.value}, 202
    )


async def refuse_if_gone(
    client: df.DurableOrchestrationClient, rollout: RolloutRecord, doing: str
) -> func.HttpResponse | None:
    """409 when the rollout's orchestration no longer runs, after handing the rollout to its
    recovery (which records how it ended); None while it runs."""
    status = await orchestration_status(client, rollout.id)
    if is_live(status):
        return None
    how = f"its orchestration is {status or 'gone'}"
    await hand_recovery(client, runtime().settings, rollout, how)
    return refuse(
        409,
        f"cannot {doing}: rollout '{rollout.id}' is no longer running ({how}); arcwave is "
        "closing it now: its state will say how it ended",
        state=rollout.state.value,
        orchestration=status,
    )


async def _roll_back(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, rollout_id: str, who: Caller
) -> func.HttpResponse:
    """Start a rollout of the revision that was last good before the finished rollout
    `rollout_id`, through the track's waves and gates, or with `{"fast": true}` all clusters
    at once with the gates off. Its trigger names the rollout it undoes."""
    body = read_json(req, "rollback request", required=False)
    fast = _flag(body, "fast", "rollback request") if isinstance(body, dict) else False
    rollout = await find_rollout(rollout_id)
    if rollout is None:
        return refuse(404, f"no rollout '{rollout_id}'")
    state = rollout.state
    if not state.is_terminal:
        return refuse(
            409,
            f"cannot roll back: rollout '{rollout_id}' is {state.value}; to undo a running "
            'rollout, abort it with rollback (POST …/abort {"rollback": true})',
            state=state.value,
        )
    if state is RolloutState.ROLLED_BACK:
        return refuse(
            409,
            f"cannot roll back: rollout '{rollout_id}' was rolled back already",
            state=state.value,
        )
    target = rollout.previous_revision
    if target is None:
        return refuse(
            409,
            f"cannot roll back: no revision of track '{rollout.track}' was good before "
            f"rollout '{rollout_id}'",
            state=state.value,
        )
    records = runtime().records
    track = await asyncio.to_thread(records.tracks.find, rollout.track)
    if track is None:
        return refuse(404, f"no track '{rollout.track}': it was deleted")
    kind = "rollback:fast" if fast else "rollback"
    trigger = Trigger(kind=kind, actor=who.name, delivery_id=None, undoes=rollout_id)
    handed = await hand_over(client, runtime(), track, target, trigger, uuid.uuid4().hex, fast=fast)
    log.info(
        "rollback of %s to %s requested by %s%s: %s",
        rollout_id,
        short_revision(target),
        who.name,
        " (fast: one wave, gates off)" if fast else "",
        handed["rolloutId"],
    )
    return answer({**handed, "undoes": rollout_id, "fast": fast}, 202)


def _flag(body: dict[str, object], field: str, what: str) -> bool:
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise InvalidInput(what, [Problem(field, "bool_type", "must be true or false", value)])
    return value


# -- fleet ----------------------------------------------------------------------------------


@operation_route(bp, "fleet", ["GET"], name="fleet")
async def fleet(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    require(req, caller, Role.READER, "reading the fleet")
    track = req.params.get("track")
    if not track:
        raise InvalidInput(
            "query", [Problem("track", "missing", "name the track: /api/fleet?track=NAME")]
        )
    records = runtime().records
    if await asyncio.to_thread(records.tracks.find, track) is None:
        return refuse(404, f"no track '{track}'")
    clusters = await asyncio.to_thread(records.clusters.list, track)
    return answer({"track": track, "clusters": [cluster_view(c) for c in clusters]})


async def find_rollout(rollout_id: str) -> RolloutRecord | None:
    if not rollout_id or len(rollout_id) > 200:
        return None
    return await asyncio.to_thread(runtime().records.rollouts.find_by_id, rollout_id)
