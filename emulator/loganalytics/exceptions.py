"""Log Analytics errors in the query API's shape (a OneAPI error object)::

    {"error": {"message", "code", "correlationId", "innererror"?: {"code", "message", …}}}

A query the emulator cannot read is ``BadArgumentError`` with an ``innererror`` saying why
(``SyntaxError`` or ``SemanticError``, whose own ``innererror`` carries the detail), which is
what azure-monitor-query's ``LogsQueryError`` shows as its message.
"""

from __future__ import annotations

import uuid
from typing import Any

INVALID_PROPERTIES_MSG = "The request had some invalid properties"
AUTH_MISSING_MSG = "Authentication failed. The 'Authorization' header is missing."
WORKSPACE_NOT_FOUND_MSG = "Workspace '{workspace}' could not be found"
PATH_NOT_FOUND_MSG = (
    "The requested path does not exist: the arcwave emulator serves "
    "POST /v1/workspaces/{{workspaceId}}/query (and GET with ?query=) only"
)
BODY_MSG = "The request body must be a JSON object with a 'query' string: {reason}"
PARTIAL_MSG = "There were some errors when processing your query."
PARTIAL_DETAIL_MSG = (
    "Query execution has exceeded the allowed limits (injected by the arcwave emulator's "
    "monitor.queryFailures)"
)
INJECTED_MSG = "injected by the arcwave emulator's monitor.queryFailures"
STATUS_CODES = {
    400: ("BadArgumentError", INVALID_PROPERTIES_MSG),
    401: ("AuthenticationFailed", AUTH_MISSING_MSG),
    403: (
        "InsufficientAccessError",
        "The provided credentials have insufficient access to perform the requested operation",
    ),
    404: ("WorkspaceNotFoundError", "Workspace could not be found"),
    422: ("BadArgumentError", INVALID_PROPERTIES_MSG),
    429: ("ThrottledError", "Your request was throttled: too many requests; retry later"),
    500: ("InternalServerError", "An internal error occurred while processing the query"),
    502: ("BadGateway", "The query service could not reach a backend"),
    503: ("ServiceUnavailableError", "The query service is unavailable; retry later"),
    504: ("GatewayTimeout", "The query did not complete in time"),
}
"""What an injected failure of each status answers: code and message."""


class LogsError(Exception):
    """An answer other than 200: ``status`` and the OneAPI error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        inner: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "code": self.code,
            "correlationId": str(uuid.uuid4()),
        }
        if self.inner is not None:
            error["innererror"] = self.inner
        return {"error": error}


def bad_query(kind: str, detail: dict[str, Any]) -> LogsError:
    """400 for a query the emulator could not read: ``kind`` is SyntaxError or SemanticError."""
    summary = (
        "A recognition error occurred in the query."
        if kind == "SyntaxError"
        else "A semantic error occurred."
    )
    inner = {"code": kind, "message": summary, "innererror": detail}
    return LogsError(400, "BadArgumentError", INVALID_PROPERTIES_MSG, inner)


def injected(status: int, message: str | None) -> LogsError:
    code, default = STATUS_CODES[status]
    headers = {"Retry-After": "1"} if status in (429, 503) else {}
    return LogsError(status, code, f"{message or default} ({INJECTED_MSG})", headers=headers)
