"""The app's operator API over HTTPS (requests): one call, its answer or a `CliError`.

TLS is verified (`ARCWAVE_CA_BUNDLE` names a CA bundle for a private CA); every call has a
timeout (`ARCWAVE_TIMEOUT` seconds to read an answer, 30 by default); redirects are not
followed (App Service authentication set to redirect unauthenticated callers to a sign-in
page answers 302, which is an error here, not a page to parse).

An error answer becomes a `CliError` whose message is the app's own (`error`, then each of
`errors` as `loc: msg`) and whose exit code follows the status (cli/errors.py). Keys and
tokens are in headers only, never in a URL or a message.
"""

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from cli.auth import Credentials
from cli.config import Target
from cli.errors import EXIT_FAILURE, CliError, exit_code_for
from shared.version import __version__

CA_BUNDLE_ENV = "ARCWAVE_CA_BUNDLE"
TIMEOUT_ENV = "ARCWAVE_TIMEOUT"
CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0
MAX_PROBLEMS_SHOWN = 20


@dataclass
class Answer:
    """A successful answer: its status, JSON body and headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(CliError):
    """The app answered with an error status."""

    def __init__(self, status: int, message: str, body: Any) -> None:
        super().__init__(message, exit_code_for(status))
        self.status = status
        self.body = body


def path(*parts: str) -> str:
    """`/api/...` with each part percent-encoded (a name or id never escapes its segment)."""
    return "/api/" + "/".join(quote(p, safe="") for p in parts)


class Api:
    """The operator API of one target."""

    def __init__(
        self,
        target: Target,
        credentials: Credentials | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.target = target
        self.credentials = credentials or Credentials(target)
        self.session = session or requests.Session()
        self.session.verify = os.environ.get(CA_BUNDLE_ENV) or True
        self.session.headers["User-Agent"] = f"arcwave-cli/{__version__}"
        self.timeout = (CONNECT_SECONDS, _read_seconds())

    def get(self, route: str, params: dict[str, str] | None = None) -> Answer:
        return self.call("GET", route, params=params)

    def post(self, route: str, body: Any = None) -> Answer:
        return self.call("POST", route, body=body)

    def delete(self, route: str) -> Answer:
        return self.call("DELETE", route)

    def put(
        self, route: str, content: bytes, content_type: str, params: dict[str, str] | None = None
    ) -> Answer:
        return self.call("PUT", route, content=content, content_type=content_type, params=params)

    def call(
        self,
        method: str,
        route: str,
        *,
        body: Any = None,
        content: bytes | None = None,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"Accept": "application/json", **self.credentials.headers()}
        data = content
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = content_type
        url = self.target.url + route
        shown = f"{method} {route}"
        try:
            response = self.session.request(
                method,
                url,
                params={k: v for k, v in (params or {}).items() if v},
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                auth=_no_netrc,
            )
        except requests.exceptions.SSLError as error:
            raise CliError(
                f"{shown}: TLS verification of {self.target.url} failed ({_reason(error)}); "
                f"for a private CA set {CA_BUNDLE_ENV} to its bundle",
            ) from None
        except requests.exceptions.Timeout:
            raise CliError(
                f"{shown}: {self.target.url} did not answer within {self.timeout[1]:g}s "
                f"(set {TIMEOUT_ENV} to wait longer)"
            ) from None
        except requests.exceptions.RequestException as error:
            raise CliError(f"{shown}: cannot reach {self.target.url} ({_reason(error)})") from None
        return self._answer(shown, response)

    def _answer(self, shown: str, response: requests.Response) -> Answer:
        body = _json(response)
        status = response.status_code
        if 200 <= status < 300:
            if body is _NOT_JSON:
                raise CliError(
                    f"{shown} answered {status} with something that is not JSON "
                    f"({response.headers.get('Content-Type', 'no content type')}): is "
                    f"{self.target.url} an arcwave app?",
                    EXIT_FAILURE,
                )
            return Answer(status, body, dict(response.headers))
        raise ApiError(status, self._message(shown, status, body, response), body)

    def _message(self, shown: str, status: int, body: Any, response: requests.Response) -> str:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            lines = [f"{body['error']} (HTTP {status})"]
            for problem in (body.get("errors") or [])[:MAX_PROBLEMS_SHOWN]:
                if isinstance(problem, dict):
                    loc, msg = problem.get("loc") or "", problem.get("msg") or ""
                    lines.append(f"  {loc}: {msg}" if loc else f"  {msg}")
            if status == 401:
                lines.append(f"  sent by {self.target.described}")
            return "\n".join(lines)
        if status == 401:
            return (
                f"{shown}: not authorised (HTTP 401): the app refused the credentials of "
                f"{self.target.described}; check the key or sign in again (arcwave login)"
            )
        if status == 403:
            return f"{shown}: forbidden (HTTP 403) for {self.target.described}"
        if 300 <= status < 400:
            where = response.headers.get("Location", "elsewhere").split("?")[0]
            return (
                f"{shown}: the app redirected to {where} (HTTP {status}); App Service "
                "authentication must answer 401 to API callers, not redirect them"
            )
        return f"{shown} answered HTTP {status}"


_NOT_JSON = object()


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _no_netrc(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that changes nothing, so requests never adds ~/.netrc credentials."""
    return request


def _reason(error: Exception) -> str:
    """What went wrong, short: urllib3's `Caused by ...` when there is one."""
    text = str(error) or type(error).__name__
    if "Caused by " in text:
        text = text.split("Caused by ", 1)[1].rstrip(")")
    return text.splitlines()[0][:300]


def _read_seconds() -> float:
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(text) if text else READ_SECONDS
    except ValueError:
        return READ_SECONDS
    return seconds if seconds > 0 else READ_SECONDS
