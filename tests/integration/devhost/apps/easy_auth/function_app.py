"""A tiny function app for devhost's App Service authentication tests
(tests/integration/devhost/test_devhost_easy_auth.py).

The HTTP functions answer with the request headers they received and the app's
WEBSITE_AUTH_ENABLED; every invocation appends its probe (the `x-probe` header, or the event
id) to $DEVHOST_TEST_MARKS, so a test can tell that a refused request ran no function.
"""

import json
import os
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _mark(probe: str | None) -> None:
    path = os.environ.get("DEVHOST_TEST_MARKS")
    if path and probe:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(probe + "\n")


def _echo(req: func.HttpRequest) -> func.HttpResponse:
    _mark(req.headers.get("x-probe"))
    body = {
        "headers": {k.lower(): v for k, v in req.headers.items()},
        "websiteAuthEnabled": os.environ.get("WEBSITE_AUTH_ENABLED"),
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="whoami", methods=["GET", "POST"])
def whoami(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req)


@app.route(route="keyed", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req)


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    _mark(event.id)
