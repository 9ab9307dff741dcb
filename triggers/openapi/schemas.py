"""The JSON Schemas of what the app answers and takes (bodies), for the OpenAPI document."""

from typing import Any

from shared.eta_model import Eta
from shared.states import ClusterState, Command, RolloutState, WaveState
from shared.trackspec.alerts import Severity

SHA = {"type": "string", "pattern": "^[0-9a-f]{40}$"}
TEXT = {"type": "string"}
TEXT_OR_NULL = {"type": ["string", "null"]}
TIME = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$",
    "description": "UTC, fixed width: text order is time order",
}
TIME_OR_NULL = {**TIME, "type": ["string", "null"]}
TRACK_NAME = {
    "type": "string",
    "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    "maxLength": 63,
    "description": "a track name: lower-case letters, digits and '-', at most 63 characters",
}
ROLLOUT_ID = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
    "maxLength": 64,
    "description": "a rollout id as arcwave gives them: `baseline-2b7e0c1-5f3a9c1e`",
}
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "limit": {"type": "integer", "description": "413: the limit exceeded, in bytes"},
    },
}
HANDED: dict[str, Any] = {
    "type": "object",
    "required": ["track", "revision", "rolloutId", "queued"],
    "properties": {
        "track": TEXT,
        "revision": {
            "type": "string",
            "description": "a 40-hex commit (Git tracks) or `tag@sha256:<digest>` (OCI tracks)",
        },
        "rolloutId": {"type": ["string", "null"]},
        "queued": {"type": "boolean"},
    },
}
TRACKS = {
    "type": "object",
    "required": ["tracks"],
    "properties": {
        "tracks": {"type": "array", "items": {"$ref": "#/components/schemas/Handed"}},
        "reason": {"const": "Stale", "description": "some track found the push not newer"},
    },
}
HOOK_ANSWER = {
    "type": "object",
    "description": "one of `{ping}`, `{ignored[, reason], tracks}`, `{duplicate}`, `{tracks: []}`",
    "additionalProperties": False,
    "properties": {
        "ping": {"const": True},
        "duplicate": {"const": True},
        "ignored": TEXT,
        "reason": {"const": "Stale"},
        "tracks": {"type": "array", "items": {"$ref": "#/components/schemas/Handed"}},
    },
}
TRACK = {
    "type": "object",
    "required": [
        "name",
        "spec",
        "currentRevision",
        "lastGoodRevision",
        "activeRolloutId",
        "specVersion",
        "updatedAt",
    ],
    "properties": {
        "name": TEXT,
        "spec": {"type": "object", "description": "the track spec with every default filled in"},
        "currentRevision": TEXT_OR_NULL,
        "lastGoodRevision": TEXT_OR_NULL,
        "activeRolloutId": TEXT_OR_NULL,
        "specVersion": TEXT,
        "updatedAt": TIME,
        "notice": {
            "type": "string",
            "description": "PUT while a rollout is active: that rollout keeps its spec",
        },
    },
}
PLACEMENT = {
    "type": "object",
    "required": ["id", "name", "site", "offline", "reason"],
    "properties": {
        "id": TEXT,
        "name": TEXT,
        "site": TEXT_OR_NULL,
        "offline": {"type": "boolean"},
        "reason": TEXT,
    },
}
PLAN = {
    "type": "object",
    "required": ["track", "revision", "waves", "excluded", "unassigned", "offline", "eta"],
    "properties": {
        "track": TEXT,
        "revision": TEXT_OR_NULL,
        "waves": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "clusters", "maxInFlight", "maxPerSite", "rounds"],
                "properties": {
                    "name": TEXT,
                    "clusters": {"type": "array", "items": PLACEMENT},
                    "maxInFlight": {"type": "integer", "minimum": 1},
                    "maxPerSite": {"type": ["integer", "null"], "minimum": 1},
                    "rounds": {"type": "array", "items": {"type": "array", "items": TEXT}},
                },
            },
        },
        "excluded": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "reason"],
                "properties": {"id": TEXT, "reason": TEXT},
            },
        },
        "unassigned": {"type": "array", "items": TEXT},
        "offline": {"type": "array", "items": TEXT},
        "eta": {
            "$ref": "#/components/schemas/Eta",
            "description": "when a rollout started now would start and finish each wave and "
            "batch, at the earliest (docs/planning.md#eta)",
        },
    },
}


def eta_schemas() -> dict[str, Any]:
    """`Eta` and the schemas it refers to, for the document's components."""
    schema = Eta.model_json_schema(
        by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}"
    )
    return {"Eta": schema, **schema.pop("$defs", {})}


ROLLOUT_STATE: dict[str, Any] = {"enum": [s.value for s in RolloutState]}
SUMMARY_FIELDS = {
    "id": TEXT,
    "track": TEXT,
    "revision": TEXT,
    "state": ROLLOUT_STATE,
    "createdAt": TIME,
    "updatedAt": TIME,
}
SUMMARY = {
    "type": "object",
    "required": list(SUMMARY_FIELDS),
    "additionalProperties": False,
    "properties": SUMMARY_FIELDS,
}
ROLLOUT_CLUSTER = {
    "type": "object",
    "required": [
        "id",
        "name",
        "state",
        "revision",
        "reason",
        "message",
        "site",
        "writtenAt",
        "settledAt",
    ],
    "properties": {
        "id": TEXT,
        "name": TEXT,
        "state": {"enum": [s.value for s in ClusterState]},
        "revision": TEXT_OR_NULL,
        "reason": TEXT_OR_NULL,
        "message": TEXT,
        "site": TEXT_OR_NULL,
        "writtenAt": TIME_OR_NULL,
        "settledAt": TIME_OR_NULL,
    },
}
GATES = {
    "type": ["object", "null"],
    "description": "the wave's gates in the spec the rollout runs; null before it is planned",
    "required": ["approval", "approvalTimeoutSeconds", "soakSeconds", "maxFailures", "metricGates"],
    "properties": {
        "approval": {"type": "boolean"},
        "approvalTimeoutSeconds": {"type": ["number", "null"]},
        "soakSeconds": {"type": "number"},
        "maxFailures": {"type": ["integer", "string"]},
        "metricGates": {
            "type": "array",
            "items": TEXT,
            "description": "the metric gates judged when the wave has applied and after soak "
            "(docs/gates.md); each verdict is in the timeline",
        },
    },
}
ROLLOUT = {
    "type": "object",
    "required": [
        *SUMMARY_FIELDS,
        "previousRevision",
        "reason",
        "message",
        "trigger",
        "specVersion",
        "clusters",
        "alerts",
        "windowsOverride",
        "waves",
        "eta",
    ],
    "properties": {
        **SUMMARY_FIELDS,
        "previousRevision": TEXT_OR_NULL,
        "reason": TEXT,
        "message": TEXT,
        "trigger": {
            "type": "object",
            "required": ["kind", "actor"],
            "properties": {
                "kind": {
                    "type": "string",
                    "description": "`api`, `git:<provider>`, `oci`, `catch-up`, ...",
                },
                "actor": TEXT,
                "deliveryId": TEXT_OR_NULL,
            },
        },
        "specVersion": TEXT_OR_NULL,
        "clusters": {
            "type": ["array", "null"],
            "items": TEXT,
            "description": "a catch-up's clusters; null: the track's whole fleet",
        },
        "alerts": {
            "type": "array",
            "description": "the Azure Monitor alerts firing now on clusters this rollout wrote "
            "(POST /api/alerts; docs/gates.md)",
            "items": {
                "type": "object",
                "required": ["rule", "severity", "clusters", "firedAt"],
                "properties": {
                    "rule": TEXT,
                    "severity": {"enum": [s.value for s in Severity]},
                    "clusters": {"type": "array", "items": TEXT},
                    "firedAt": TIME_OR_NULL,
                },
            },
        },
        "windowsOverride": {
            "description": "the operator's emergency override of the maintenance windows "
            "(POST /api/rollouts/{id}/override-windows); null: the windows hold",
            "anyOf": [
                {
                    "type": "object",
                    "required": ["by", "reason", "at"],
                    "properties": {"by": TEXT, "reason": TEXT, "at": TIME},
                },
                {"type": "null"},
            ],
        },
        "waves": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "name",
                    "maxInFlight",
                    "maxPerSite",
                    "state",
                    "reason",
                    "message",
                    "gates",
                    "counts",
                    "clusters",
                ],
                "properties": {
                    "name": TEXT,
                    "maxInFlight": {"type": ["integer", "null"]},
                    "maxPerSite": {"type": ["integer", "null"]},
                    "state": {"enum": [s.value for s in WaveState]},
                    "reason": TEXT_OR_NULL,
                    "message": TEXT,
                    "gates": GATES,
                    "counts": {
                        "type": "object",
                        "description": "the wave's clusters by state when it last recorded a "
                        "step: kept when a later rollout takes its clusters over",
                        "additionalProperties": {"type": "integer"},
                    },
                    "clusters": {"type": "array", "items": ROLLOUT_CLUSTER},
                },
            },
        },
        "eta": {
            "anyOf": [{"$ref": "#/components/schemas/Eta"}, {"type": "null"}],
            "description": "what is left, from now, at the earliest; null once the rollout "
            "has ended, before it is planned, or while it aborts or rolls back",
        },
    },
}
TIMELINE = {
    "type": "object",
    "required": ["rolloutId", "timeline"],
    "properties": {
        "rolloutId": TEXT,
        "timeline": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["time", "actor", "reason", "message", "data"],
                "properties": {
                    "time": TIME,
                    "actor": TEXT,
                    "reason": TEXT,
                    "message": TEXT,
                    "data": {"type": "object"},
                },
            },
        },
    },
}
COMMANDED = {
    "type": "object",
    "required": ["rolloutId", "command", "state"],
    "properties": {
        "rolloutId": TEXT,
        "command": {"enum": [c.value for c in Command]},
        "state": ROLLOUT_STATE,
    },
}
FLEET = {
    "type": "object",
    "required": ["track", "clusters"],
    "properties": {
        "track": TEXT,
        "clusters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "name",
                    "wave",
                    "state",
                    "reason",
                    "message",
                    "desiredRevision",
                    "appliedRevision",
                    "lastGoodRevision",
                    "lastRolloutId",
                    "writtenAt",
                    "settledAt",
                    "restorePoint",
                    "updatedAt",
                ],
                "properties": {
                    "id": TEXT,
                    "name": TEXT,
                    "wave": TEXT_OR_NULL,
                    "state": {"enum": [s.value for s in ClusterState]},
                    "reason": TEXT_OR_NULL,
                    "message": TEXT,
                    "desiredRevision": TEXT_OR_NULL,
                    "appliedRevision": TEXT_OR_NULL,
                    "lastGoodRevision": TEXT_OR_NULL,
                    "lastRolloutId": TEXT_OR_NULL,
                    "writtenAt": TIME_OR_NULL,
                    "settledAt": TIME_OR_NULL,
                    "restorePoint": {
                        "type": ["object", "null"],
                        "required": ["capturedAt", "found"],
                        "properties": {"capturedAt": TIME, "found": {"type": "boolean"}},
                    },
                    "updatedAt": TIME,
                },
            },
        },
    },
}


REVISION_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["revision"],
    "properties": {
        "revision": {
            "type": "string",
            "description": "a 40-hex commit (Git tracks; also `branch@sha1:<sha>` or "
            "`branch/<sha>`) or `tag`, `sha256:<digest>`, `tag@sha256:<digest>` (OCI tracks)",
        },
        "reason": {"type": "string"},
    },
}
