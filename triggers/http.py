"""HTTP plumbing every trigger shares: JSON answers, error answers, the caller's identity.

Failures are answered by kind, never with a traceback:

    InvalidInput                       400 with every problem (at most 20 shown, each cut)
    NotFound (ARM or the store)        404
    a command the rollout refuses,     409 saying why
    a create that exists, a record
    that kept changing (store ETag)
    failed If-Match / If-None-Match    412 with the current ETag
    a body over its route's cap,       413 naming the limit
    a document over the store's limit
    Forbidden (arcwave's identity)     502 naming the right to grant
    a missing or wrong setting,        503 (the log names the setting)
    a misfitting store
    a store or ARM hiccup              503 with Retry-After

Only a bug in arcwave itself is a 500, and then the log has the traceback and the answer an id.

Every route reads its body through `read_body` with its own cap (a Content-Length over it is
refused before the body is touched), and every handler's store calls share a budget
(`REQUEST_STORE_SECONDS` of waiting in all): a locked or unreachable store is a 503 with
Retry-After in about that time, not after the adapters' 30 s.
"""

import functools
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol
from urllib.parse import urlsplit

import azure.durable_functions as df
import azure.functions as func

from shared.documents import parse_json
from shared.errors import Forbidden, NotFound, PermanentError, TransientError
from shared.identity import Caller, Role, Unidentified, identify
from shared.problems import InvalidInput, Problem, cut
from shared.runtime import app_settings
from shared.settings import SettingsError
from shared.store import DocumentTooLarge, PreconditionFailed, StoreMisconfigured
from shared.store.waiting import store_budget
from shared.telemetry import failed, serving

log = logging.getLogger("arcwave.triggers")

P = ParamSpec("P")
Handler = Callable[P, Awaitable[func.HttpResponse]]
ClientHandler = Callable[
    [func.HttpRequest, df.DurableOrchestrationClient], Awaitable[func.HttpResponse]
]
Operation = Callable[
    [func.HttpRequest, df.DurableOrchestrationClient, Caller], Awaitable[func.HttpResponse]
]
"""What an operator route does for a caller already identified (`operation_route`): the
operator API and the dashboard's browser routes (`triggers.browser`) run the same ones."""
Identify = Callable[[func.HttpRequest], Caller]

COMMAND_MAX_BYTES = 8 * 1024
"""The cap of an operator's command body (`{"revision", "reason"}`, `{"rollback": true}`)."""

REQUEST_STORE_SECONDS = 1.5
"""How long the store calls of one HTTP request may take in all (waiting for locks, throttling,
timeouts) before it is answered 503 with Retry-After (`shared.store.waiting`). Activities
keep the adapters' own timeouts (30 s)."""


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


class NotAllowed(Exception):
    """The caller lacks the role an operation needs: answered 403 naming the role."""


class SignInRequired(Exception):
    """A browser route called by someone not signed in: answered 401 with where to sign in."""

    def __init__(self, message: str, login: str) -> None:
        super().__init__(message)
        self.login = login


def caller_of(req: func.HttpRequest) -> Caller:
    """Who calls an operator route (`shared.identity`): a signed-in user or a function key."""
    return identify(req.headers, req.params, app_settings().identity)


def require(req: func.HttpRequest, who: Caller, role: Role, action: str) -> Caller:
    """`who`, when it holds `role`; `NotAllowed` (403) naming the role `action` needs
    otherwise, logged at WARNING."""
    problem = who.refusal(role, action)
    if problem is not None:
        log.warning("refused: %s (%s %s)", problem, req.method, urlsplit(req.url).path)
        raise NotAllowed(problem)
    return who


def authorised(req: func.HttpRequest, role: Role, action: str) -> Caller:
    """The caller of `req` (`shared.identity`), when it holds `role`; `NotAllowed` (403)
    naming the role `action` needs otherwise."""
    return require(req, caller_of(req), role, action)


class BodyTooLarge(Exception):
    """A request body over its route's cap: answered 413 naming the limit."""

    def __init__(self, what: str, limit: int, size: int | None) -> None:
        said = f" ({size:,} bytes)" if size is not None else ""
        super().__init__(
            f"the {what} is larger than {_size(limit)}{said}, the most this route accepts"
        )
        self.limit = limit


def read_body(req: func.HttpRequest, limit: int, what: str) -> bytes:
    """The request body, at most `limit` bytes; `BodyTooLarge` otherwise. A Content-Length
    over the limit is refused without touching the body."""
    declared = (req.headers.get("Content-Length") or "").strip()
    if declared.isdigit() and len(declared) < 20 and int(declared) > limit:
        raise BodyTooLarge(what, limit, int(declared))
    body = req.get_body() or b""
    if len(body) > limit:
        raise BodyTooLarge(what, limit, len(body))
    return body


def read_json(
    req: func.HttpRequest, what: str, *, required: bool = True, limit: int = COMMAND_MAX_BYTES
) -> Any:
    """The request body as JSON (at most `limit` bytes, nested at most 64 levels);
    `InvalidInput` naming the problem, or `BodyTooLarge`, otherwise."""
    body = read_body(req, limit, what)
    if not body.strip():
        if required:
            raise InvalidInput(what, [Problem("", "missing", "the request body is empty")])
        return {}
    return parse_json(body, what)


def _size(limit: int) -> str:
    """`256 KiB`, `25 MiB`, `8 KiB`: a byte count as the docs say it."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= scale and limit % scale == 0:
            return f"{limit // scale} {unit}"
    return f"{limit:,} bytes"


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
        req = next((a for a in (*args, *kwargs.values()) if isinstance(a, func.HttpRequest)), None)
        route_params = req.route_params if req is not None else {}
        with serving(req.method if req else "HTTP", req.url if req else "", route_params) as call:
            response = await answered(*args, **kwargs)
            call.answered(response.status_code)
            return response

    async def answered(*args: P.args, **kwargs: P.kwargs) -> func.HttpResponse:
        try:
            with store_budget(REQUEST_STORE_SECONDS):
                return await handler(*args, **kwargs)
        except InvalidInput as error:
            return invalid(error)
        except PreconditionFailedError as error:
            headers = {"ETag": error.current} if error.current else None
            return answer({"error": str(error)}, 412, headers)
        except NotAllowed as error:
            return refuse(403, str(error))
        except SignInRequired as error:
            return refuse(401, str(error), login=error.login)
        except Unidentified as error:
            log.warning("unidentified caller: %s", error)
            return refuse(401, f"the caller cannot be identified: {error}")
        except BodyTooLarge as error:
            return refuse(413, str(error), limit=error.limit)
        except DocumentTooLarge as error:
            log.warning("answering 413: %s", error)
            return refuse(413, f"too large to store: {cut(str(error), 400)}", limit=error.limit)
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
        except Exception as error:
            incident = uuid.uuid4().hex[:12]
            log.exception("internal error %s", incident)
            failed(error)
            return refuse(500, "internal error", incident=incident)

    # azure-functions inspects the signature to bind parameters by name.
    wrapper.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return wrapper


def client_route(
    bp: df.Blueprint,
    route: str,
    methods: list[str],
    *,
    anonymous: bool = False,
    headers: Mapping[str, str] | None = None,
) -> Callable[[ClientHandler], Any]:
    """Register `handler(req, client)` as an HTTP trigger with a durable client, answered
    by `guarded`. `anonymous`: no function key (the handler checks a signature or a signed-in
    user instead); `headers`: set on every answer, failures included."""

    def register(handler: ClientHandler) -> Any:
        answered = guarded(handler)
        if headers:
            answered = _with_headers(answered, headers)
        with_client = bp.durable_client_input(client_name="client")(answered)
        level = {"auth_level": func.AuthLevel.ANONYMOUS} if anonymous else {}
        return bp.route(route=route, methods=methods, **level)(with_client)

    return register


def _with_headers(handler: ClientHandler, headers: Mapping[str, str]) -> ClientHandler:
    @functools.wraps(handler)
    async def wrapper(
        req: func.HttpRequest, client: df.DurableOrchestrationClient
    ) -> func.HttpResponse:
        response = await handler(req, client)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    wrapper.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return wrapper


def operation_route(
    bp: df.Blueprint,
    route: str,
    methods: list[str],
    *,
    name: str,
    caller: Identify = caller_of,
    anonymous: bool = False,
    headers: Mapping[str, str] | None = None,
) -> Callable[[Operation], Operation]:
    """Register `operation(req, client, caller)` as the function `name` on `route`, answered
    by `guarded`; `caller` identifies who calls (`caller_of`: a key or a signed-in user).
    Returns the operation unchanged, so another route can run it too."""

    def register(operation: Operation) -> Operation:
        async def handler(
            req: func.HttpRequest, client: df.DurableOrchestrationClient
        ) -> func.HttpResponse:
            return await operation(req, client, caller(req))

        handler.__name__ = handler.__qualname__ = name
        handler.__doc__ = operation.__doc__
        client_route(bp, route, methods, anonymous=anonymous, headers=headers)(handler)
        return operation

    return register
