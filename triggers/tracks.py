"""The operator API on tracks (function key; who may do what: `shared.identity`).

    GET /api/tracks, GET /api/tracks/{name}, POST …/plan   arcwave.Reader
    PUT/DELETE /api/tracks/{name}                          arcwave.Admin
    POST /api/tracks/{name}/rollouts                       arcwave.Operator

A track spec (at most `TRACK_SPEC_MAX_BYTES`, no YAML anchors or aliases, nested at most 64
levels) is validated whole before anything is written, and written only over the version the
caller read when it says so (`If-Match`); rollouts start through `triggers.dispatch`.
docs/api.md has every shape.
"""

import asyncio
import logging
import uuid
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.documents import parse_document
from shared.forecast import plan_eta, write_budget
from shared.identity import Caller, Role
from shared.names import track_instance
from shared.planner import plan_rollout
from shared.problems import InvalidInput, Problem, short_repr
from shared.reconcile_time import learned_reconcile
from shared.revision import OciRef, Revision, RevisionError, short_revision
from shared.runtime import runtime
from shared.store import PreconditionFailed, RolloutRecord, TrackRecord, Trigger
from shared.times import utc_now
from shared.trackspec import TrackSpec, validate_track_spec
from triggers.dispatch import (
    hand_over,
    if_there,
)
from triggers.http import (
    Precondition,
    PreconditionFailedError,
    answer,
    etag_header,
    operation_route,
    read_body,
    read_json,
    refuse,
    require,
)
from triggers.views import track_view

log = logging.getLogger("arcwave.triggers.tracks")
bp = df.Blueprint()

TRACK_SPEC_MAX_BYTES = 256 * 1024
"""The cap of a track spec body. A real spec is a few KiB; what it becomes when stored (with
every default filled in) must stay under the store's 2 MB document limit, which the store
checks again itself."""


# -- tracks ---------------------------------------------------------------------------------


@operation_route(bp, "tracks", ["GET"], name="list_tracks")
async def list_tracks(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    require(req, caller, Role.READER, "reading tracks")
    tracks = await asyncio.to_thread(runtime().records.tracks.list)
    return answer({"tracks": [track_view(t) for t in tracks]})


@operation_route(bp, "tracks/{name}", ["PUT", "GET", "DELETE"], name="track")
async def track(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    records = runtime().records
    if req.method == "GET":
        require(req, caller, Role.READER, "reading a track")
        found = await asyncio.to_thread(records.tracks.find, name)
        if found is None:
            return refuse(404, f"no track '{name}'")
        return answer(track_view(found), headers=etag_header(found))
    who = require(req, caller, Role.ADMIN, "changing or deleting a track")
    if req.method == "DELETE":
        return await _delete_track(req, client, name, who)
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
    log.info("track %s %s by %s", name, "created" if created else "updated", who.name)
    body = track_view(saved)
    active = await active_rollout(saved)
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
    req: func.HttpRequest, client: df.DurableOrchestrationClient, name: str, who: Caller
) -> func.HttpResponse:
    records = runtime().records
    found = await asyncio.to_thread(records.tracks.find, name)
    if found is None:
        return refuse(404, f"no track '{name}'")
    Precondition.of(req).check(found, name)
    active = await active_rollout(found)
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
        return await _delete_track(req, client, name, who)
    instance = track_instance(name)
    await if_there(
        client.terminate(instance, f"track deleted by {who.name}"),
        f"terminate {instance} (the reconciliation closes what it leaves)",
    )
    return answer({"deleted": name})


async def active_rollout(track: TrackRecord) -> RolloutRecord | None:
    """The track's active rollout while it has not ended."""
    if track.active_rollout_id is None:
        return None
    rollout = await asyncio.to_thread(
        runtime().records.rollouts.find, track.id, track.active_rollout_id
    )
    return rollout if rollout is not None and not rollout.state.is_terminal else None


def _track_spec_from(req: func.HttpRequest, name: str) -> TrackSpec:
    text = read_body(req, TRACK_SPEC_MAX_BYTES, "track spec").decode("utf-8", "replace")
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
                    f"the body names track {short_repr(data['name'])} but the URL names '{name}'",
                    data["name"],
                )
            ],
        )
    return validate_track_spec(data)


@operation_route(bp, "tracks/{name}/rollouts", ["POST"], name="start_rollout")
async def start_rollout(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    who = require(req, caller, Role.OPERATOR, "starting a rollout")
    records = runtime().records
    found = await asyncio.to_thread(records.tracks.find, name)
    if found is None:
        return refuse(404, f"no track '{name}'")
    body = read_json(req, "rollout request")
    revision = _revision(body, oci=found.track_spec().source.is_oci)
    reason = body.get("reason") if isinstance(body, dict) else None
    trigger = Trigger(kind="api", actor=who.name, delivery_id=None)
    handed = await hand_over(client, runtime(), found, revision, trigger, uuid.uuid4().hex)
    log.info(
        "rollout of %s on %s requested by %s: %s",
        short_revision(revision),
        name,
        trigger.actor,
        reason or "-",
    )
    return answer(handed, 202)


@operation_route(bp, "tracks/{name}/plan", ["POST"], name="preview_plan")
async def preview_plan(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, caller: Caller
) -> func.HttpResponse:
    require(req, caller, Role.READER, "previewing a plan")
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
    history = await asyncio.to_thread(rt.records.clusters.list, name)
    learned = learned_reconcile(history)
    budget = write_budget(rt.settings)
    eta = await asyncio.to_thread(plan_eta, spec, plan, fleet, budget, learned, utc_now())
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
            "eta": eta.to_wire(),
        }
    )


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
