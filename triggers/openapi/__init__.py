"""`GET /api/openapi.json`: OpenAPI 3.1 for every HTTP route of the app.

The route table (`paths.py`, with the bodies in `schemas.py` and what operations share in
`parts.py`) is the documentation; a test compares it with the routes the app
registers, so neither can change without the other, and tests/e2e/test_openapi_fuzz.py sends
requests generated from it (schemathesis) to a live devhost and checks every answer against
it: status codes, media types, bodies and headers. The `links` say which answer feeds which
operation (a PUT track then its GET, DELETE, rollouts and plan; a rollout then its commands).
"""

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from shared.trackspec import TrackSpec
from shared.version import __version__
from triggers.http import answer
from triggers.openapi.paths import ROUTES
from triggers.openapi.schemas import HANDED, ROLLOUT, TRACK, eta_schemas

bp = df.Blueprint()


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    spec_schema = TrackSpec.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    definitions = spec_schema.pop("$defs", {})
    body_schema = {
        **spec_schema,
        "title": "TrackSpecBody",
        "description": "A track spec as PUT takes it: `name` may be left out (the URL's is "
        "used); when given it must be the URL's. YAML is read too.",
        "required": [f for f in spec_schema.get("required", []) if f != "name"],
    }
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
                "TrackSpecBody": body_schema,
                **definitions,
                "Track": TRACK,
                "Rollout": ROLLOUT,
                "Handed": HANDED,
                **eta_schemas(),
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
