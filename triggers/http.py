"""HTTP plumbing every trigger shares: JSON answers, error answers, the caller's identity.

Failures are answered by kind, never with a traceback:

    InvalidInput                       400 with every problem
    NotFound (ARM or the store)        404
    a command the rollout refuses,     409 saying why
    a create that exists, a record
    that kept changing (store ETag)
    failed If-Match / If-None-Match    412 with the current ETag
    Forbidden (arcwave's identity)     502 naming the right to grant
    a missing or wrong setting,        503 (the log names the setting)
    a misfitting store
    a store or ARM hiccup              503 with Retry-After

Only a bug in arcwave itself is a 500, and then the log has the traceback and the answer an id.
"""

import functools
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol

import azure.durable_functions as df
import azure.functions as func

from shared.errors import Forbidden, NotFound, PermanentError, TransientError
from shared.problems import InvalidInput, Problem
from shared.settings import SettingsError
from shared.store import PreconditionFailed, StoreMisconfigured

log = logging.getLogger("arcwave.triggers")

P = ParamSpec("P")
Handler = Callable[P, Awaitable[func.HttpResponse]]
ClientHandler = Callable[
    [func.HttpRequest, df.DurableOrchestrationClient], Awaitable[func.HttpResponse]
]

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


class Versioned(Protocol):
    @property
    def spec_version(self) -> str: ...


def etag(record: Versioned) -> str:
    """The HTTP ETag of a track: its spec version, quoted."""
    return f'"{record.spec_version}"'


def etag_header(record: Versioned) -> dict[str, str]:
    return {"ETag": etag(record)}


class PreconditionFailedError(Exception):
    """An `If-Match` / `If-None-Match` condition does not hold: answered 412."""

    def __init__(self, name: str, current: str | None, wanted: str) -> None:
        if current is None:
            message = f"track '{name}' does not exist, so it cannot match If-Match {wanted}"
        elif wanted == "*":
            message = f"track '{name}' already exists (If-None-Match: *); its ETag is {current}"
        else:
            message = (
                f"track '{name}' changed since you read it: its ETag is {current}, not {wanted}; "
                "GET it again, reapply your change and send the new ETag"
            )
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Precondition:
    """The conditions of a request on the version of what it changes (RFC 9110 §13)."""

    if_match: str | None = None
    if_none_match: str | None = None

    @classmethod
    def of(cls, req: func.HttpRequest) -> "Precondition":
        return cls(
            if_match=(req.headers.get("If-Match") or "").strip() or None,
            if_none_match=(req.headers.get("If-None-Match") or "").strip() or None,
        )

    def check(self, record: Versioned | None, name: str) -> None:
        current = etag(record) if record is not None else None
        if self.if_match is not None and (current is None or not _matches(self.if_match, current)):
            raise PreconditionFailedError(name, current, self.if_match)
        none_match = self.if_none_match
        if none_match is not None and current is not None and _matches(none_match, current):
            raise PreconditionFailedError(name, current, none_match)


def _matches(header: str, current: str) -> bool:
    """Whether a list of entity tags (or `*`) names `current` (weak comparison)."""
    if header == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return current in tags


def guarded(handler: Handler[P]) -> Handler[P]:
    """Answer every failure by its kind; see the module docstring."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> func.HttpResponse:
        try:
            return await handler(*args, **kwargs)
        except InvalidInput as error:
            return invalid(error)
        except PreconditionFailedError as error:
            headers = {"ETag": error.current} if error.current else None
            return answer({"error": str(error)}, 412, headers)
        except (SettingsError, StoreMisconfigured) as error:
            log.error("arcwave is misconfigured: %s", error)
            return refuse(503, "arcwave is misconfigured; the log names the setting")
        except NotFound as error:
            return refuse(404, str(error))
        except Forbidden as error:
            log.error("arcwave's identity was refused: %s", error)
            return refuse(502, f"Azure refused arcwave's identity: {error}")
        except PreconditionFailed as error:
            log.warning("answering 409: %s", error)
            return refuse(409, f"{error}; it kept changing while arcwave updated it: try again")
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


def client_route(
    bp: df.Blueprint, route: str, methods: list[str], *, anonymous: bool = False
) -> Callable[[ClientHandler], Any]:
    """Register `handler(req, client)` as an HTTP trigger with a durable client, answered
    by `guarded`. `anonymous`: no function key (the handler checks a signature instead)."""

    def register(handler: ClientHandler) -> Any:
        with_client = bp.durable_client_input(client_name="client")(guarded(handler))
        level = {"auth_level": func.AuthLevel.ANONYMOUS} if anonymous else {}
        return bp.route(route=route, methods=methods, **level)(with_client)

    return register
