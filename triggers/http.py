"""HTTP plumbing every trigger shares: JSON answers, error answers, the caller's identity.

Failures are answered by kind, never with a traceback: invalid input 400 with every problem,
a store or ARM hiccup 503 with Retry-After, a missing setting 503 naming it (and logged).
Only a bug in arcwave itself is a 500, and then the log has the traceback and the answer an id.
"""

import functools
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

import azure.functions as func

from shared.errors import PermanentError, TransientError
from shared.problems import InvalidInput, Problem
from shared.settings import SettingsError

log = logging.getLogger("arcwave.triggers")

P = ParamSpec("P")
Handler = Callable[P, Awaitable[func.HttpResponse]]

EASY_AUTH_PRINCIPAL = "X-MS-CLIENT-PRINCIPAL-NAME"


def answer(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    """A JSON response."""
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/json", headers=headers
    )


def refuse(status: int, message: str, **details: Any) -> func.HttpResponse:
    """An error answer: `{"error": message, ...details}`."""
    return answer({"error": message, **details}, status)


def invalid(error: InvalidInput) -> func.HttpResponse:
    return answer(error.to_wire(), 400)


def caller(req: func.HttpRequest) -> str:
    """Who is calling: the Easy Auth principal when App Service authentication is on."""
    return (req.headers.get(EASY_AUTH_PRINCIPAL) or "").strip() or "function-key"


def read_json(req: func.HttpRequest, what: str, *, required: bool = True) -> Any:
    """The request body as JSON; `InvalidInput` naming the problem otherwise."""
    body = req.get_body() or b""
    if not body.strip():
        if required:
            raise InvalidInput(what, [Problem("", "missing", "the request body is empty")])
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(what, [Problem("", "json", f"not valid JSON: {error}")]) from None


def guarded(handler: Handler[P]) -> Handler[P]:
    """Answer every failure by its kind; see the module docstring."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> func.HttpResponse:
        try:
            return await handler(*args, **kwargs)
        except InvalidInput as error:
            return invalid(error)
        except SettingsError as error:
            log.error("arcwave is misconfigured: %s", error)
            return refuse(503, "arcwave is misconfigured; the log names the setting")
        except TransientError as error:
            log.warning("answering 503: %s", error)
            delay = max(1, round(getattr(error, "delay", 5) or 5))
            return answer({"error": "try again shortly"}, 503, {"Retry-After": str(delay)})
        except PermanentError as error:
            log.warning("answering 409: %s", error)
            return refuse(409, str(error))
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("internal error %s", incident)
            return refuse(500, "internal error", incident=incident)

    # azure-functions inspects the signature to bind parameters by name.
    wrapper.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return wrapper
