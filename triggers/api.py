"""The operator API (function key; the caller recorded from Easy Auth when it is on).

    PUT/GET/DELETE /api/tracks/{name}      GET /api/tracks
    POST /api/tracks/{name}/rollouts       POST /api/tracks/{name}/plan
    GET /api/rollouts?track=&state=        GET /api/rollouts/{id}   GET /api/rollouts/{id}/timeline
    POST /api/rollouts/{id}/approve|pause|resume|abort
    GET /api/fleet?track=NAME

Reads and writes go to the store; rollouts start through `triggers.dispatch`; commands change
the rollout's control block and wake its orchestrations. docs/api.md has every shape.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from activities.runtime import runtime
from orchestrators.common import CONTROL_EVENT
from shared.documents import parse_document
from shared.names import track_instance, wave_instance
from shared.planner import plan_rollout
from shared.problems import InvalidInput, Problem
from shared.reasons import Reason
from shared.revision import OciRef, Revision, RevisionError
from shared.states import Command, RolloutState, WaveState
from shared.store import PreconditionFailed, RolloutRecord, TrackRecord, Trigger
from shared.store.records import utc_now
from shared.trackspec import TrackSpec, validate_track_spec
from triggers.commands import refusal
from triggers.dispatch import hand_over, hand_recovery, is_live, orchestration_status
from triggers.http import (
    Precondition,
    PreconditionFailedError,
    answer,
    caller,
    etag_header,
    guarded,
    read_json,
    refuse,
)
from triggers.views import cluster_view, rollout_detail, rollout_summary, track_view

log = logging.getLogger("arcwave.triggers.api")
bp = df.Blueprint()


# -- tracks ---------------------------------------------------------------------------------


@bp.route(route="tracks", methods=["GET"])
@guarded
async def list_tracks(req: func.HttpRequest) -> func.HttpResponse:
    tracks = await asyncio.to_thread(runtime().records.tracks.list)
    return answer({"tracks": [track_view(t) for t in tracks]})


@bp.route(route="tracks/{name}", methods=["PUT", "GET", "DELETE"])
@bp.durable_client_input(client_name="client")
@guarded
async def track(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    records = runtime().records
    if req.method == "GET":
        found = await asyncio.to_thread(records.tracks.find, name)
        if found is None:
            return refuse(404, f"no track '{name}'")
        return answer(track_view(found), headers=etag_header(found))
    if req.method == "DELETE":
        return await _delete_track(req, client, name)
    spec = _track_spec_from(req, name)
    now = utc_now()
    precondition = Precondition.of(req)
    found = await asyncio.to_thread(records.tracks.find, name)
    precondition.check(found, name)
    if found is not None:
        conflict = await _create_only_conflict(found, spec, req.params.get("recreate"))
        if conflict is not None:
            return conflict

    def with_spec(record: TrackRecord) -> TrackRecord:
        precondition.check(record, name)  # again, atomically with the write
        return record.with_spec(spec).model_copy(update={"updated_at": now})

    def new_track() -> TrackRecord:
        if precondition.if_match is not None:
            raise PreconditionFailedError(name, None, precondition.if_match)
        return TrackRecord.for_spec(spec, now)

    saved = await asyncio.to_thread(records.tracks.update, name, with_spec, default=new_track)
    created = found is None
    log.info("track %s %s by %s", name, "created" if created else "updated", caller(req))
    body = track_view(saved)
    active = await _active_rollout(saved)
    if active is not None:
        body["notice"] = (
            f"rollout '{active.id}' keeps the spec it was planned with; "
            "this change applies from the next rollout"
        )
    return answer(body, 201 if created else 200, headers=etag_header(saved))


async def _create_only_conflict(
    track: TrackRecord, spec: TrackSpec, recreate: str | None
) -> func.HttpResponse | None:
    """A 409 when the new spec changes fields Azure sets only at creation (`scope`,
    `namespace`) while the track has configurations on clusters, unless the caller asked for
    them to be re-created (`?recreate=true`)."""
    before = track.track_spec().configuration
    after = spec.configuration
    changed = [
        f"configuration.{field}"
        for field, old, new in (
            ("scope", before.scope, after.scope),
            ("namespace", before.namespace, after.namespace),
        )
        if old != new
    ]
    if not changed or before.name != after.name or (recreate or "").lower() == "true":
        return None
    written = await asyncio.to_thread(runtime().records.clusters.list, track.id)
    live = [r for r in written if r.desired_revision is not None]
    if not live:
        return None
    return refuse(
        409,
        f"{' and '.join(changed)} can only be set when a fluxConfiguration is created, and "
        f"'{before.name}' exists on {len(live)} cluster(s): give the configuration a new name "
        "(arcwave creates it; the old one stays until you remove it), or send the PUT again "
        "with ?recreate=true to have the next rollout delete and re-create it cluster by "
        "cluster inside its in-flight window",
        fields=changed,
    )


async def _delete_track(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, name: str
) -> func.HttpResponse:
    records = runtime().records
    found = await asyncio.to_thread(records.tracks.find, name)
    if found is None:
        return refuse(404, f"no track '{name}'")
    Precondition.of(req).check(found, name)
    active = await _active_rollout(found)
    if active is not None:
        return refuse(
            409,
            f"track '{name}' has an active rollout '{active.id}' ({active.state.value}); "
            "abort it first",
            activeRolloutId=active.id,
        )
    try:
        # Only the version checked above: a spec written meanwhile makes the delete a 412.
        await asyncio.to_thread(
            records.store.delete, TrackRecord.container, name, name, if_match=found.etag
        )
    except PreconditionFailed:
        fresh = await asyncio.to_thread(records.tracks.find, name)
        Precondition.of(req).check(fresh, name)
        return await _delete_track(req, client, name)
    with contextlib.suppress(Exception):  # not running: nothing to stop
        await client.terminate(track_instance(name), f"track deleted by {caller(req)}")
    return answer({"deleted": name})


async def _active_rollout(track: TrackRecord) -> RolloutRecord | None:
    """The track's active rollout while it has not ended."""
    if track.active_rollout_id is None:
        return None
    rollout = await asyncio.to_thread(
        runtime().records.rollouts.find, track.id, track.active_rollout_id
    )
    return rollout if rollout is not None and not rollout.state.is_terminal else None


def _track_spec_from(req: func.HttpRequest, name: str) -> TrackSpec:
    text = (req.get_body() or b"").decode("utf-8", "replace")
    data = parse_document(text, "track spec") if text.strip() else None
    if not isinstance(data, dict):
        raise InvalidInput(
            "track spec",
            [Problem("", "dict_type", "the body must be a track spec (JSON or YAML mapping)")],
        )
    data.setdefault("name", name)
    if data["name"] != name:
        raise InvalidInput(
            "track spec",
            [
                Problem(
                    "name",
                    "mismatch",
                    f"the body names track '{data['name']}' but the URL names '{name}'",
                    data["name"],
                )
            ],
        )
    return validate_track_spec(data)


@bp.route(route="tracks/{name}/rollouts", methods=["POST"])
@bp.durable_client_input(client_name="client")
@guarded
async def start_rollout(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    records = runtime().records
    found = await asyncio.to_thread(records.tracks.find, name)
    if found is None:
        return refuse(404, f"no track '{name}'")
    body = read_json(req, "rollout request")
    revision = _revision(body, oci=found.track_spec().source.is_oci)
    reason = body.get("reason") if isinstance(body, dict) else None
    trigger = Trigger(kind="api", actor=caller(req), delivery_id=None)
    handed = await hand_over(client, runtime(), found, revision, trigger, uuid.uuid4().hex)
    log.info(
        "rollout of %s on %s requested by %s: %s", revision[:7], name, trigger.actor, reason or "-"
    )
    return answer(handed, 202)


@bp.route(route="tracks/{name}/plan", methods=["POST"])
@guarded
async def preview_plan(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    rt = runtime()
    found = await asyncio.to_thread(rt.records.tracks.find, name)
    if found is None:
        return refuse(404, f"no track '{name}'")
    body = read_json(req, "plan request", required=False)
    revision = (
        _revision(body, oci=found.track_spec().source.is_oci)
        if isinstance(body, dict) and body.get("revision")
        else found.current_revision
    )
    spec = found.track_spec()
    fleet = await asyncio.to_thread(rt.fleet.discover, spec.fleet)
    plan = plan_rollout(spec, fleet)
    return answer(
        {
            "track": name,
            "revision": revision,
            "waves": [
                {
                    "name": w.name,
                    "clusters": [
                        {
                            "id": c.id,
                            "name": c.name,
                            "site": c.site,
                            "offline": c.offline,
                            "reason": c.reason,
                        }
                        for c in w.clusters
                    ],
                    "maxInFlight": w.max_in_flight,
                    "maxPerSite": w.max_per_site,
                    "rounds": w.rounds,
                }
                for w in plan.waves
            ],
            "excluded": [{"id": e.id, "reason": e.reason} for e in plan.excluded],
            "unassigned": plan.unassigned,
            "offline": plan.offline,
        }
    )


# -- rollouts -------------------------------------------------------------------------------


@bp.route(route="rollouts", methods=["GET"])
@guarded
async def list_rollouts(req: func.HttpRequest) -> func.HttpResponse:
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


@bp.route(route="rollouts/{id}", methods=["GET"])
@guarded
async def get_rollout(req: func.HttpRequest) -> func.HttpResponse:
    rollout = await _find_rollout(req.route_params.get("id", ""))
    if rollout is None:
        return refuse(404, f"no rollout '{req.route_params.get('id', '')}'")
    clusters = await asyncio.to_thread(
        runtime().records.clusters.list, rollout.track, rollout=rollout.id
    )
    return answer(rollout_detail(rollout, clusters))


@bp.route(route="rollouts/{id}/timeline", methods=["GET"])
@guarded
async def rollout_timeline(req: func.HttpRequest) -> func.HttpResponse:
    rollout_id = req.route_params.get("id", "")
    rollout = await _find_rollout(rollout_id)
    if rollout is None:
        return refuse(404, f"no rollout '{rollout_id}'")
    entries = await asyncio.to_thread(runtime().records.timeline.list, rollout_id)
    return answer(
        {
            "rolloutId": rollout_id,
            "timeline": [
                {
                    "time": e.time.isoformat(),
                    "actor": e.actor,
                    "reason": e.reason.value,
                    "message": e.message,
                    "data": e.data,
                }
                for e in entries
            ],
        }
    )


@bp.route(route="rollouts/{id}/{command:alpha}", methods=["POST"])
@bp.durable_client_input(client_name="client")
@guarded
async def rollout_command(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    rollout_id = req.route_params.get("id", "")
    try:
        command = Command(req.route_params.get("command", ""))
    except ValueError:
        return refuse(
            404,
            f"unknown command '{req.route_params.get('command')}': "
            "use approve, pause, resume or abort",
        )
    body = read_json(req, f"{command.value} request", required=False)
    rollback = False
    if command is Command.ABORT and isinstance(body, dict) and "rollback" in body:
        if not isinstance(body["rollback"], bool):
            raise InvalidInput(
                "abort request",
                [Problem("rollback", "bool_type", "must be true or false", body["rollback"])],
            )
        rollback = body["rollback"]
    rollout = await _find_rollout(rollout_id)
    if rollout is None:
        return refuse(404, f"no rollout '{rollout_id}'")
    actor = caller(req)
    problem = refusal(rollout, command)
    if problem:
        return refuse(409, problem, state=rollout.state.value)
    if rollout.state is not RolloutState.PENDING:
        status = await orchestration_status(client, rollout_id)
        if not is_live(status):
            how = f"its orchestration is {status or 'gone'}"
            await hand_recovery(client, runtime().settings, rollout, how)
            return refuse(
                409,
                f"cannot {command.value}: rollout '{rollout_id}' is no longer running ({how}); "
                "arcwave is closing it now: its state will say how it ended",
                state=rollout.state.value,
                orchestration=status,
            )

    def apply(current: RolloutRecord) -> RolloutRecord:
        control = current.control
        if command is Command.APPROVE:
            waiting = [w.name for w in current.waves if w.state is WaveState.WAITING_FOR_APPROVAL]
            approvals = {**control.approvals, **dict.fromkeys(waiting, actor)}
            control = control.model_copy(update={"approvals": approvals})
        elif command is Command.PAUSE:
            control = control.model_copy(update={"paused": True})
        elif command is Command.RESUME:
            control = control.model_copy(update={"paused": False})
        else:
            control = control.model_copy(update={"abort": True, "rollback": rollback})
        return current.model_copy(update={"control": control, "updated_at": utc_now()})

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
        with contextlib.suppress(Exception):  # finished or not started: nothing to wake
            await client.raise_event(
                instance, CONTROL_EVENT, {"command": command.value, "by": actor}
            )
    return answer(
        {"rolloutId": rollout_id, "command": command.value, "state": updated.state.value}, 202
    )


# -- fleet ----------------------------------------------------------------------------------


@bp.route(route="fleet", methods=["GET"])
@guarded
async def fleet(req: func.HttpRequest) -> func.HttpResponse:
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


# -- helpers --------------------------------------------------------------------------------

_REASONS = {
    Command.APPROVE: Reason.APPROVED,
    Command.PAUSE: Reason.PAUSED,
    Command.RESUME: Reason.RESUMED,
    Command.ABORT: Reason.ABORTED,
}


def _revision(body: Any, *, oci: bool = False) -> str:
    if not isinstance(body, dict) or "revision" not in body:
        raise InvalidInput(
            "rollout request",
            [
                Problem(
                    "revision",
                    "missing",
                    'give the commit to roll out: {"revision": "<40-hex sha>"}',
                )
            ],
        )
    try:
        if oci:
            return str(OciRef.parse(body["revision"]))
        return Revision.parse(body["revision"]).commit
    except RevisionError as error:
        raise InvalidInput(
            "rollout request", [Problem("revision", "revision", str(error), body["revision"])]
        ) from None


async def _find_rollout(rollout_id: str) -> RolloutRecord | None:
    if not rollout_id or len(rollout_id) > 200:
        return None
    return await asyncio.to_thread(runtime().records.rollouts.find_by_id, rollout_id)
