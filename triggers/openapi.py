"""`GET /api/openapi.json`: OpenAPI 3.1 for every HTTP route of the app.

The route table below is the documentation; a test compares it with the routes the app
registers, so neither can change without the other.
"""

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.trackspec import TrackSpec
from shared.version import __version__
from triggers.http import answer

bp = df.Blueprint()

_SHA = {"type": "string", "pattern": "^[0-9a-f]{40}$"}
_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
    },
}
_HANDED = {
    "type": "object",
    "properties": {
        "track": {"type": "string"},
        "revision": _SHA,
        "rolloutId": {"type": ["string", "null"]},
        "queued": {"type": "boolean"},
    },
}
_TRACKS = {
    "type": "object",
    "properties": {"tracks": {"type": "array", "items": {"$ref": "#/components/schemas/Handed"}}},
}


def _response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _parameter(where: str, name: str, description: str, required: bool = False) -> dict[str, Any]:
    """One string parameter of an operation: `where` is `header`, `query` or `path`."""
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


def _header(name: str, description: str) -> dict[str, Any]:
    return _parameter("header", name, description)


_IF_MATCH = _header(
    "If-Match", "the track's ETag from GET or PUT: the change applies only to that version"
)
_ETAG = {"ETag": {"description": "the version of the track's spec", "schema": {"type": "string"}}}
_STALE = _response("If-Match names another version of the track (or it does not exist)", _ERROR)


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return _parameter("query", name, description, required)


_ERRORS = {
    "400": _response("invalid input: every problem with its field", _ERROR),
    "401": _response("missing or wrong key or signature", _ERROR),
    "404": _response("not found", _ERROR),
    "503": _response("a dependency is briefly unavailable; retry after Retry-After", _ERROR),
}

ROUTES: dict[str, dict[str, dict[str, Any]]] = {
    "/api/healthz": {
        "get": {
            "summary": "Liveness and version",
            "security": [],
            "responses": {"200": _response("up", {"type": "object"})},
        },
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": _response("OpenAPI 3.1", {"type": "object"})},
        },
    },
    "/api/hooks/{provider}": {
        "post": {
            "summary": "Git push webhook (github, gitlab, azuredevops, bitbucket, gitea)",
            "security": [],
            "parameters": [_path_param("provider")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": _response(
                    "ping, ignored, duplicate, or no track follows the branch", {"type": "object"}
                ),
                "202": _response(
                    "handed to the tracks that follow the repository and branch", _TRACKS
                ),
                **_ERRORS,
            },
        },
    },
    "/api/flux/events": {
        "post": {
            "summary": "Flux notification-controller event (generic-hmac)",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "202": _response("the waves watching the cluster were woken", {"type": "object"}),
                **_ERRORS,
            },
        },
    },
    "/api/tracks": {
        "get": {
            "summary": "List tracks",
            "responses": {"200": _response("tracks", {"type": "object"}), **_ERRORS},
        },
    },
    "/api/tracks/{name}": {
        "put": {
            "summary": "Create or replace a track (JSON or YAML); a running rollout keeps "
            "the spec it was planned with",
            "parameters": [
                _path_param("name"),
                _IF_MATCH,
                _header("If-None-Match", "`*`: create only, never replace"),
                _query(
                    "recreate",
                    "`true`: accept a change of configuration.scope or .namespace (create-only "
                    "in Azure); the next rollout deletes and re-creates each configuration",
                ),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/TrackSpec"}}
                },
            },
            "responses": {
                "200": {**_response("replaced", {"type": "object"}), "headers": _ETAG},
                "201": {**_response("created", {"type": "object"}), "headers": _ETAG},
                "409": _response(
                    "the spec changes create-only fields of configurations that exist; send "
                    "?recreate=true to re-create them",
                    _ERROR,
                ),
                "412": _STALE,
                **_ERRORS,
            },
        },
        "get": {
            "summary": "Read a track",
            "parameters": [_path_param("name")],
            "responses": {
                "200": {**_response("the track", {"type": "object"}), "headers": _ETAG},
                **_ERRORS,
            },
        },
        "delete": {
            "summary": "Delete a track (refused while a rollout is active)",
            "parameters": [_path_param("name"), _IF_MATCH],
            "responses": {
                "200": _response("deleted", {"type": "object"}),
                "409": _response("a rollout is active", _ERROR),
                "412": _STALE,
                **_ERRORS,
            },
        },
    },
    "/api/tracks/{name}/rollouts": {
        "post": {
            "summary": "Roll a revision out on a track",
            "parameters": [_path_param("name")],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["revision"],
                            "properties": {
                                "revision": {"type": "string"},
                                "reason": {"type": "string"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": _response("handed to the track", {"$ref": "#/components/schemas/Handed"}),
                **_ERRORS,
            },
        },
    },
    "/api/tracks/{name}/plan": {
        "post": {
            "summary": "Preview the plan (waves, write order, window, rounds, excluded, offline); "
            "writes nothing",
            "parameters": [_path_param("name")],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"revision": {"type": "string"}}}
                    }
                },
            },
            "responses": {"200": _response("the plan", {"type": "object"}), **_ERRORS},
        },
    },
    "/api/rollouts": {
        "get": {
            "summary": "List rollouts, newest first",
            "parameters": [_query("track", "only this track"), _query("state", "only this state")],
            "responses": {"200": _response("rollouts", {"type": "object"}), **_ERRORS},
        },
    },
    "/api/rollouts/{id}": {
        "get": {
            "summary": "A rollout with its waves and clusters",
            "parameters": [_path_param("id")],
            "responses": {"200": _response("the rollout", {"type": "object"}), **_ERRORS},
        },
    },
    "/api/rollouts/{id}/timeline": {
        "get": {
            "summary": "A rollout's audit trail",
            "parameters": [_path_param("id")],
            "responses": {"200": _response("entries, oldest first", {"type": "object"}), **_ERRORS},
        },
    },
    "/api/rollouts/{id}/{command}": {
        "post": {
            "summary": 'approve, pause, resume or abort (abort takes {"rollback": bool})',
            "parameters": [
                _path_param("id"),
                {
                    **_path_param("command"),
                    "schema": {"enum": ["approve", "pause", "resume", "abort"]},
                },
            ],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"rollback": {"type": "boolean"}},
                        }
                    }
                },
            },
            "responses": {
                "202": _response("accepted", {"type": "object"}),
                "409": _response(
                    "the command does not apply in the rollout's state, or the rollout is no "
                    "longer running (it is being closed)",
                    _ERROR,
                ),
                **_ERRORS,
            },
        },
    },
    "/api/fleet": {
        "get": {
            "summary": "Each cluster of a track with desired, applied and last good revision",
            "parameters": [_query("track", "the track", required=True)],
            "responses": {"200": _response("clusters", {"type": "object"}), **_ERRORS},
        },
    },
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    spec_schema = TrackSpec.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    definitions = spec_schema.pop("$defs", {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "arcwave",
            "version": __version__,
            "description": "Wave-based, health-gated GitOps rollouts for Azure Arc fleets.",
        },
        "paths": ROUTES,
        "components": {
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
            },
            "schemas": {
                "TrackSpec": spec_schema,
                **definitions,
                "Handed": _HANDED,
                "Problem": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "string"},
                        "type": {"type": "string"},
                        "msg": {"type": "string"},
                        "input": {},
                    },
                },
            },
        },
        "security": [{"functionKey": []}],
    }


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return answer(document())
