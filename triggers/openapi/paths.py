"""Every HTTP route of the app, as OpenAPI 3.1 operations (`document()` puts them together)."""

from typing import Any

from shared.alerting import Effect, Ignored
from shared.alerts import MonitorCondition
from shared.states import Command
from shared.trackspec import Severity
from shared.webhooks.providers import ALIASES, PROVIDERS
from triggers.openapi.parts import (
    ETAG,
    IF_MATCH,
    KEYED_ERRORS,
    LISTED_TRACK_LINKS,
    SIGNED_ERRORS,
    STALE,
    TRACK_LINKS,
    header,
    path_param,
    query,
    ref,
    response,
    rollout_links,
)
from triggers.openapi.schemas import (
    COMMANDED,
    ERROR,
    FLEET,
    HANDED,
    HOOK_ANSWER,
    PLAN,
    REVISION_BODY,
    ROLLOUT_ID,
    ROLLOUT_STATE,
    SUMMARY,
    TEXT,
    TEXT_OR_NULL,
    TIMELINE,
    TRACK_NAME,
    TRACKS,
)

ALERT = {
    "type": "object",
    "required": ["schemaId", "data"],
    "properties": {
        "schemaId": {"const": "azureMonitorCommonAlertSchema"},
        "data": {
            "type": "object",
            "required": ["essentials"],
            "properties": {
                "essentials": {
                    "type": "object",
                    "required": ["alertId", "alertRule", "severity", "monitorCondition"],
                    "properties": {
                        "alertId": TEXT,
                        "alertRule": TEXT,
                        "severity": {"enum": [s.value for s in Severity]},
                        "monitorCondition": {"enum": [c.value for c in MonitorCondition]},
                        "alertTargetIDs": {"type": "array", "items": TEXT},
                        "configurationItems": {"type": "array", "items": TEXT},
                    },
                },
                "alertContext": {"type": ["object", "null"]},
            },
        },
    },
}
ALERT_EFFECTS = {
    "type": "object",
    "required": ["alertRule", "monitorCondition", "paused", "failed", "resumed", "rollouts"],
    "properties": {
        "alertRule": TEXT,
        "monitorCondition": {"enum": [c.value for c in MonitorCondition]},
        **{e: {"type": "array", "items": TEXT} for e in ("paused", "failed", "resumed")},
        "rollouts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rolloutId", "track", "effect", "clusters", "message"],
                "properties": {
                    "rolloutId": TEXT,
                    "track": TEXT,
                    "effect": {"enum": [e.value for e in Effect]},
                    "clusters": {"type": "array", "items": TEXT},
                    "message": TEXT,
                },
            },
        },
    },
}
IGNORED_REASONS = [i.value for i in Ignored]

ROUTES: dict[str, dict[str, dict[str, Any]]] = {
    "/api/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Liveness and version",
            "security": [],
            "responses": {
                "200": response(
                    "up",
                    {
                        "type": "object",
                        "required": ["status", "version"],
                        "properties": {"status": {"const": "ok"}, "version": TEXT},
                    },
                )
            },
        },
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": response(
                    "OpenAPI 3.1",
                    {"type": "object", "required": ["openapi", "paths"]},
                )
            },
        },
    },
    "/api/hooks/{provider}": {
        "post": {
            "operationId": "gitWebhook",
            "summary": "Git push webhook (github, gitlab, azuredevops, bitbucket, gitea)",
            "description": "Signed per provider over the raw body (docs/webhooks.md); the "
            "signature is checked before anything else is read.",
            "security": [],
            "parameters": [
                path_param(
                    "provider",
                    {
                        "enum": [*PROVIDERS, *ALIASES],
                        "description": "case-insensitive; forgejo and gogs are gitea",
                    },
                ),
                header("X-Hub-Signature-256", "GitHub, Gitea: `sha256=<hex HMAC-SHA256>`"),
                header("X-Hub-Signature", "Bitbucket: `sha256=<hex HMAC-SHA256>`"),
                header("X-Gitlab-Token", "GitLab: the secret itself"),
                header("Authorization", "Azure DevOps: Basic, the password is the secret"),
                header("X-Gitea-Signature", "Gitea: hex HMAC-SHA256"),
                header("X-GitHub-Event", "GitHub (and Gitea): `push`, `ping`, ..."),
                header("X-Gitlab-Event", "GitLab: `Push Hook`, `Tag Push Hook`, ..."),
                header("X-Event-Key", "Bitbucket: `repo:push`, `diagnostics:ping`, ..."),
                header("X-GitHub-Delivery", "GitHub: the delivery's id (logged)"),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"payload": TEXT},
                            "description": "GitHub and Gitea: the JSON in one `payload` field",
                        }
                    },
                },
            },
            "responses": {
                "200": response(
                    "ping, ignored, duplicate, or no track follows the branch", HOOK_ANSWER
                ),
                "202": response(
                    "handed to the tracks that follow the repository and branch", TRACKS
                ),
                **SIGNED_ERRORS,
            },
        },
    },
    "/api/flux/events": {
        "post": {
            "operationId": "fluxEvent",
            "summary": "Flux notification-controller event (generic-hmac)",
            "security": [],
            "parameters": [
                header("X-Signature", "`sha256=<hex HMAC-SHA256>` with ARCWAVE_FLUX_HMAC_KEY")
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "involvedObject": {"type": "object"},
                                "severity": {"enum": ["info", "error"]},
                                "timestamp": TEXT,
                                "message": TEXT,
                                "reason": TEXT,
                                "reportingController": TEXT,
                                "metadata": {
                                    "type": "object",
                                    "properties": {"clusterId": TEXT, "revision": TEXT},
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": response(
                    "the waves watching the cluster were woken",
                    {
                        "type": "object",
                        "required": ["woke"],
                        "properties": {"woke": {"type": "array", "items": TEXT}},
                    },
                ),
                **{k: v for k, v in SIGNED_ERRORS.items() if k not in ("404", "409")},
            },
        },
    },
    "/api/alerts": {
        "post": {
            "operationId": "receiveAlert",
            "summary": "Azure Monitor alert (common alert schema, from an action group): pauses, "
            "fails or resumes the running rollouts whose written clusters it names, by each "
            "track's alerts policy (arcwave.Operator)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ALERT}}},
            "responses": {
                "200": response(
                    "nothing changed: why, and a stable reason",
                    {
                        "type": "object",
                        "required": ["ignored", "reason"],
                        "properties": {"ignored": TEXT, "reason": {"enum": IGNORED_REASONS}},
                    },
                ),
                "202": response("what the alert did to each rollout it names", ALERT_EFFECTS),
                **{k: v for k, v in KEYED_ERRORS.items() if k not in ("404",)},
            },
        },
    },
    "/api/tracks": {
        "get": {
            "operationId": "listTracks",
            "summary": "List tracks",
            "responses": {
                "200": response(
                    "tracks",
                    {
                        "type": "object",
                        "required": ["tracks"],
                        "properties": {"tracks": {"type": "array", "items": ref("Track")}},
                    },
                    links=LISTED_TRACK_LINKS,
                ),
                **KEYED_ERRORS,
            },
        },
    },
    "/api/tracks/{name}": {
        "put": {
            "operationId": "putTrack",
            "summary": "Create or replace a track (JSON or YAML); a running rollout keeps "
            "the spec it was planned with",
            "parameters": [
                path_param("name", TRACK_NAME),
                IF_MATCH,
                header("If-None-Match", "`*`: create only, never replace"),
                query(
                    "recreate",
                    "`true`: accept a change of configuration.scope or .namespace (create-only "
                    "in Azure); the next rollout deletes and re-creates each configuration",
                ),
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("TrackSpecBody")}},
            },
            "responses": {
                "200": response("replaced", ref("Track"), headers=ETAG, links=TRACK_LINKS),
                "201": response("created", ref("Track"), headers=ETAG, links=TRACK_LINKS),
                **KEYED_ERRORS,
                "409": response(
                    "the spec changes create-only fields of configurations that exist (send "
                    "?recreate=true to re-create them), or the track kept changing meanwhile",
                    {
                        **ERROR,
                        "properties": {
                            **ERROR["properties"],
                            "fields": {"type": "array", "items": TEXT},
                        },
                    },
                ),
                "412": STALE,
            },
        },
        "get": {
            "operationId": "getTrack",
            "summary": "Read a track",
            "parameters": [path_param("name", TRACK_NAME)],
            "responses": {
                "200": response("the track", ref("Track"), headers=ETAG),
                **KEYED_ERRORS,
            },
        },
        "delete": {
            "operationId": "deleteTrack",
            "summary": "Delete a track (refused while a rollout is active)",
            "parameters": [path_param("name", TRACK_NAME), IF_MATCH],
            "responses": {
                "200": response(
                    "deleted",
                    {"type": "object", "required": ["deleted"], "properties": {"deleted": TEXT}},
                ),
                **KEYED_ERRORS,
                "409": response(
                    "a rollout is active (or the track kept changing meanwhile)",
                    {
                        **ERROR,
                        "properties": {**ERROR["properties"], "activeRolloutId": TEXT},
                    },
                ),
                "412": STALE,
            },
        },
    },
    "/api/tracks/{name}/rollouts": {
        "post": {
            "operationId": "startRollout",
            "summary": "Roll a revision out on a track",
            "parameters": [path_param("name", TRACK_NAME)],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": REVISION_BODY}},
            },
            "responses": {
                "202": response(
                    "handed to the track",
                    ref("Handed"),
                    links=rollout_links("$response.body#/rolloutId"),
                ),
                **KEYED_ERRORS,
            },
        },
    },
    "/api/tracks/{name}/plan": {
        "post": {
            "operationId": "previewPlan",
            "summary": "Preview the plan (waves, write order, window, rounds, excluded, offline) "
            "and its ETA per wave and batch; writes nothing",
            "parameters": [path_param("name", TRACK_NAME)],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "revision": REVISION_BODY["properties"]["revision"],
                            },
                        }
                    }
                },
            },
            "responses": {"200": response("the plan", PLAN), **KEYED_ERRORS},
        },
    },
    "/api/rollouts": {
        "get": {
            "operationId": "listRollouts",
            "summary": "List rollouts, newest first",
            "parameters": [
                query("track", "only this track"),
                query(
                    "state",
                    "only this state (empty: every state)",
                    schema={"enum": [*ROLLOUT_STATE["enum"], ""]},
                ),
            ],
            "responses": {
                "200": response(
                    "rollouts",
                    {
                        "type": "object",
                        "required": ["rollouts"],
                        "properties": {"rollouts": {"type": "array", "items": SUMMARY}},
                    },
                    links=rollout_links("$response.body#/rollouts/0/id"),
                ),
                **KEYED_ERRORS,
            },
        },
    },
    "/api/rollouts/{id}": {
        "get": {
            "operationId": "getRollout",
            "summary": "A rollout with its waves, clusters and ETA",
            "parameters": [path_param("id", ROLLOUT_ID)],
            "responses": {"200": response("the rollout", ref("Rollout")), **KEYED_ERRORS},
        },
    },
    "/api/rollouts/{id}/timeline": {
        "get": {
            "operationId": "getRolloutTimeline",
            "summary": "A rollout's audit trail",
            "parameters": [path_param("id", ROLLOUT_ID)],
            "responses": {"200": response("entries, oldest first", TIMELINE), **KEYED_ERRORS},
        },
    },
    "/api/rollouts/{id}/{command}": {
        "post": {
            "operationId": "commandRollout",
            "summary": "approve (arcwave.Approver), pause, resume or abort a running rollout "
            '(abort takes {"rollback": bool}), or roll back a finished one (arcwave.Operator): '
            'rollback starts a rollout of the revision good before it ({"fast": true}: one '
            "wave, gates off)",
            "parameters": [
                path_param("id", ROLLOUT_ID),
                path_param("command", {"enum": [*(c.value for c in Command), "rollback"]}),
            ],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "rollback": {"type": "boolean"},
                                "fast": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": response(
                    "accepted: the command (approve, pause, resume, abort), or the rollout that "
                    "undoes this one (rollback)",
                    {
                        "anyOf": [
                            COMMANDED,
                            {
                                **HANDED,
                                "required": [*HANDED["required"], "undoes", "fast"],
                                "properties": {
                                    **HANDED["properties"],
                                    "undoes": TEXT,
                                    "fast": {"type": "boolean"},
                                },
                            },
                        ]
                    },
                ),
                **KEYED_ERRORS,
                "409": response(
                    "the command does not apply in the rollout's state, or the rollout is no "
                    "longer running (it is being closed)",
                    {
                        **ERROR,
                        "properties": {
                            **ERROR["properties"],
                            "state": ROLLOUT_STATE,
                            "orchestration": TEXT_OR_NULL,
                        },
                    },
                ),
            },
        },
    },
    "/api/rollouts/{id}/override-windows": {
        "post": {
            "operationId": "overrideWindows",
            "summary": "Emergency: let a rollout write (and restore) clusters outside their "
            "maintenance windows from now on (arcwave.Admin); recorded with who and why",
            "parameters": [path_param("id", ROLLOUT_ID)],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["reason"],
                            "properties": {
                                "reason": {"type": "string", "minLength": 1, "maxLength": 500}
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": response(
                    "accepted: the rollout writes regardless of its windows from now on",
                    {
                        "type": "object",
                        "required": ["rolloutId", "command", "state", "overriddenBy"],
                        "properties": {
                            "rolloutId": TEXT,
                            "command": {"const": "override-windows"},
                            "state": ROLLOUT_STATE,
                            "overriddenBy": TEXT,
                        },
                    },
                ),
                **KEYED_ERRORS,
                "409": response(
                    "the rollout has ended, its windows were overridden already, or it is no "
                    "longer running (it is being closed)",
                    {
                        **ERROR,
                        "properties": {
                            **ERROR["properties"],
                            "state": ROLLOUT_STATE,
                            "orchestration": TEXT_OR_NULL,
                        },
                    },
                ),
            },
        },
    },
    "/api/fleet": {
        "get": {
            "operationId": "getFleet",
            "summary": "Each cluster of a track with desired, applied and last good revision",
            "parameters": [query("track", "the track", required=True, schema=TRACK_NAME)],
            "responses": {"200": response("clusters", FLEET), **KEYED_ERRORS},
        },
    },
}
