"""`GET /api/healthz`: a cheap liveness answer for load balancers and deploy checks."""

import json

import azure.durable_functions as df
import azure.functions as func

from shared.version import __version__

bp = df.Blueprint()


@bp.route(route="healthz", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def healthz(req: func.HttpRequest) -> func.HttpResponse:
    """Answer that the app is up, with its version."""
    body = {"status": "ok", "version": __version__}
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")
