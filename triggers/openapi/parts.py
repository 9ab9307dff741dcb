"""The pieces operations share: responses, parameters, the errors of keyed and signed routes,
and the links from one answer to the operations it feeds."""

from typing import Any

from triggers.openapi.schemas import ERROR, TEXT


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def response(
    description: str,
    schema: dict[str, Any] | None = None,
    *,
    headers: dict[str, Any] | None = None,
    links: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    if headers:
        body["headers"] = headers
    if links:
        body["links"] = links
    return body


def path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or TEXT}


def parameter(
    where: str,
    name: str,
    description: str,
    required: bool = False,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One parameter of an operation: `where` is `header`, `query` or `path`."""
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema or TEXT,
    }


def header(name: str, description: str) -> dict[str, Any]:
    return parameter("header", name, description)


def query(
    name: str, description: str, required: bool = False, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    return parameter("query", name, description, required, schema)


IF_MATCH = header(
    "If-Match", "the track's ETag from GET or PUT: the change applies only to that version"
)
ETAG_SCHEMA = {"type": "string", "pattern": '^".+"$'}
ETAG = {"ETag": {"description": "the version of the track's spec", "schema": ETAG_SCHEMA}}
CURRENT_ETAG = {
    "ETag": {
        "description": "the track's current ETag, when it exists",
        "schema": ETAG_SCHEMA,
    }
}
STALE = response(
    "If-Match names another version of the track (or it does not exist), or If-None-Match: * "
    "and it exists",
    ERROR,
    headers=CURRENT_ETAG,
)
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait (a store or Azure hiccup)",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
CONFLICT = response(
    "a record kept changing under concurrent writers while arcwave updated it (try again), "
    "or Azure refused a change as it stands",
    ERROR,
)
KEYED_ERRORS = {
    "400": response("invalid input: every problem with its field", ERROR),
    "401": response(
        "missing or wrong function key: the Functions host answers, before the app, with no body"
    ),
    "403": response(
        "the caller lacks the role the operation needs (arcwave.Reader, arcwave.Operator, "
        "arcwave.Approver or arcwave.Admin): the error names it",
        ERROR,
    ),
    "404": response("no such track, rollout or command", ERROR),
    "409": CONFLICT,
    "413": response("the body is over the route's cap, or too large to store", ERROR),
    "502": response("Azure refused arcwave's own identity: the answer names the right", ERROR),
    "503": response(
        "a store or Azure hiccup (retry after Retry-After), or arcwave is misconfigured",
        ERROR,
        headers=RETRY_AFTER,
    ),
}
SIGNED_ERRORS = {
    "400": response("a signed body that is not a well-formed delivery: every problem", ERROR),
    "401": response(
        "missing or wrong signature or token (no detail)",
        {**ERROR, "properties": {"error": {"const": "unauthorized"}}},
    ),
    "404": response("unknown provider", ERROR),
    "409": CONFLICT,
    "413": response("the body is over the provider's maximum", ERROR),
    "503": KEYED_ERRORS["503"],
}

TRACK_LINKS = {
    "GetTrack": {"operationId": "getTrack", "parameters": {"name": "$request.path.name"}},
    "DeleteTrack": {"operationId": "deleteTrack", "parameters": {"name": "$request.path.name"}},
    "StartRollout": {
        "operationId": "startRollout",
        "parameters": {"name": "$request.path.name"},
    },
    "PreviewPlan": {"operationId": "previewPlan", "parameters": {"name": "$request.path.name"}},
    "Fleet": {"operationId": "getFleet", "parameters": {"track": "$request.path.name"}},
    "ListRollouts": {"operationId": "listRollouts", "parameters": {"track": "$request.path.name"}},
}
LISTED_TRACK_LINKS = {
    name: {
        "operationId": link["operationId"],
        "parameters": dict.fromkeys(link["parameters"], "$response.body#/tracks/0/name"),
    }
    for name, link in TRACK_LINKS.items()
}


def rollout_links(expression: str) -> dict[str, Any]:
    return {
        "GetRollout": {"operationId": "getRollout", "parameters": {"id": expression}},
        "Timeline": {"operationId": "getRolloutTimeline", "parameters": {"id": expression}},
        "Command": {"operationId": "commandRollout", "parameters": {"id": expression}},
    }
