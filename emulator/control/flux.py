"""Control routes for Flux: branch heads, how reconciles progress, private sources."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from emulator.control.wire import body, error, validation_failed
from emulator.keys import BACKEND
from emulator.scenario import FluxSource, FluxSpec

SHA_INVALID_MSG = "'sha' must be a 7 to 64 character hex commit id"
REDACTED = "<redacted>"
FLUX_SETTINGS = {
    "progression": "progression",
    "reconcileSeconds": "reconcile_seconds",
    "sources": "sources",
    "ociRevisionForm": "oci_revision_form",
    "ociRevisionRules": "oci_revision_rules",
}
"""The ``flux`` scenario keys ``PATCH /_emulator/flux`` may change, and their fields."""

routes = web.RouteTableDef()


@routes.get("/_emulator/branches")
async def get_branches(request: web.Request) -> web.Response:
    return web.json_response(request.app[BACKEND].flux.branch_heads)


@routes.put("/_emulator/branches/{branch:.+}")
async def move_branch(request: web.Request) -> web.Response:
    sha = (await body(request)).get("sha")
    if not isinstance(sha, str) or not (7 <= len(sha) <= 64) or not _is_hex(sha):
        return error(400, SHA_INVALID_MSG)
    branch = request.match_info["branch"]
    scheduled = request.app[BACKEND].move_branch(branch, sha)
    return web.json_response({"branch": branch, "sha": sha, "scheduled": scheduled})


def _redacted_source(source: FluxSource) -> dict[str, Any]:
    """A ``flux.sources`` entry without its secrets: which forms it accepts, not the keys."""
    wire = source.model_dump(by_alias=True, exclude_none=True)
    accept = wire.get("accept") or {}
    for key in ("sshPrivateKey", "httpsKey"):
        if key in accept:
            accept[key] = REDACTED
    if "tls" in accept:
        accept["tls"]["privateKey"] = REDACTED
    return wire


def _flux_settings(flux: FluxSpec) -> dict[str, Any]:
    return {
        "progression": flux.progression,
        "reconcileSeconds": flux.reconcile_seconds.model_dump(by_alias=True),
        "sources": [_redacted_source(source) for source in flux.sources],
        "ociRevisionForm": flux.oci_revision_form,
        "ociRevisionRules": [rule.model_dump(by_alias=True) for rule in flux.oci_revision_rules],
    }


@routes.get("/_emulator/flux")
async def get_flux(request: web.Request) -> web.Response:
    return web.json_response(_flux_settings(request.app[BACKEND].flux))


@routes.patch("/_emulator/flux")
async def patch_flux(request: web.Request) -> web.Response:
    """Change how reconciles progress (``time``, ``immediate``, ``manual``) and their delays,
    the private sources (replaced as a whole) and how OCI revisions are reported."""
    backend = request.app[BACKEND]
    flux = backend.flux
    given = await body(request)
    unknown = sorted(set(given) - set(FLUX_SETTINGS))
    if unknown:
        return error(400, f"unknown flux settings {unknown}; allowed: {list(FLUX_SETTINGS)}")
    current = flux.model_dump(by_alias=True, include=set(FLUX_SETTINGS.values()))
    try:
        updated = FluxSpec.model_validate({**current, **given})
    except ValidationError as problem:
        raise validation_failed(problem) from problem
    flux.progression = updated.progression
    flux.reconcile_seconds = updated.reconcile_seconds
    flux.oci_revision_form = updated.oci_revision_form
    flux.oci_revision_rules = updated.oci_revision_rules
    if "sources" in given:
        flux.sources = updated.sources
        backend.retry_failed_sources()
    return web.json_response(_flux_settings(flux))


@routes.post("/_emulator/flux/reconcile")
async def reconcile(request: web.Request) -> web.Response:
    return web.json_response({"reconciled": request.app[BACKEND].reconcile_now()})


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
