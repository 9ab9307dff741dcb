"""Resource Graph errors in ARG's shape: a ``BadRequest`` whose details say what was wrong."""

from __future__ import annotations

from typing import Any

from emulator.exceptions import ArmError

INVALID_QUERY_MSG = (
    "Query is invalid. Please refer to the documentation for the Azure Resource Graph service "
    "and fix the error before retrying."
)
SUPPORT_MSG = (
    "Please provide below info when asking for support: timestamp = {time}, "
    "correlationId = {correlation}."
)
UNSUPPORTED_MSG = "'{element}' is not supported by the arcwave emulator (supported: {supported})"
UNKNOWN_TABLE_MSG = "Table '{table}' is not supported by the arcwave emulator (supported: {tables})"
UNRESOLVED_MSG = "Failed to resolve scalar expression named '{name}'"
SYNTAX_MSG = "Query could not be parsed at '{token}' on line [1,{position}]: expected {expected}"
TOP_RANGE_MSG = "The '$top' option must be between 1 and 1000, got {value}"
SKIP_TOKEN_MSG = "The '$skipToken' option is not valid for this query"
BODY_MSG = "The request content was invalid: {reason}"


class QueryError(Exception):
    """A problem in the query text: ``code`` is ARG's detail code."""

    def __init__(self, code: str, message: str, position: int = 0, token: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position
        self.token = token

    def detail(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "line": 1,
            "characterPositionInLine": self.position,
            "token": self.token,
        }


class GraphBadRequest(ArmError):
    code = "BadRequest"
    status = 400


class GraphThrottled(ArmError):
    code = "RateLimiting"
    status = 429
