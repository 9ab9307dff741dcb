"""Wire errors shared by every emulated ARM service.

Each class is one ARM ``error.code`` with its HTTP status, so handlers raise and the server
middleware turns the exception into ARM's error body::

    ArmError
     ├─ AuthenticationFailed          401
     ├─ MissingApiVersionParameter    400
     ├─ InvalidApiVersionParameter    400
     ├─ InvalidRequestContent         400
     ├─ BadRequest                    400
     ├─ ResourceNotFound              404
     ├─ ParentResourceNotFound        404
     ├─ InvalidResourceType           404
     ├─ Conflict                      409
     ├─ TooManyRequests               429
     ├─ InternalServerError           500
     └─ ServiceUnavailable            503
"""

from __future__ import annotations

from typing import Any, ClassVar

AUTH_MISSING_MSG = "Authentication failed. The 'Authorization' header is missing."
AUTH_INVALID_MSG = (
    "Authentication failed. The 'Authorization' header is provided in an invalid format."
)
MISSING_API_VERSION_MSG = (
    "The api-version query parameter (?api-version=) is required for all requests."
)
INVALID_API_VERSION_MSG = (
    "The resource type '{resource_type}' could not be found for api version '{api_version}'. "
    "The supported api-versions are '{supported}'."
)
INVALID_CONTENT_MSG = "The request content was invalid and could not be deserialized: '{reason}'."
PARENT_NOT_FOUND_MSG = (
    "Failed to perform '{action}' on resource(s) of type '{resource_type}', because the parent "
    "resource '{parent_id}' could not be found."
)
INVALID_RESOURCE_TYPE_MSG = (
    "The resource type could not be found in the namespace for path '{path}'."
)
THROTTLED_MSG = (
    "The request is being throttled as the limit has been reached for operation type - "
    "'{operation}'. For more information, see - https://aka.ms/armthrottling"
)
INTERNAL_ERROR_MSG = (
    "Encountered internal server error. Diagnostic information: timestamp '{time}'."
)
UNAVAILABLE_MSG = "The service is currently unavailable. Please retry after {seconds} seconds."


class ArmError(Exception):
    """An ARM error response: ``{"error": {"code", "message", "target"?, "details"?}}``."""

    code: ClassVar[str] = "BadRequest"
    status: ClassVar[int] = 400

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


class BadRequest(ArmError):
    code = "BadRequest"
    status = 400


class AuthenticationFailed(ArmError):
    code = "AuthenticationFailed"
    status = 401


class MissingApiVersionParameter(ArmError):
    code = "MissingApiVersionParameter"
    status = 400


class InvalidApiVersionParameter(ArmError):
    code = "InvalidApiVersionParameter"
    status = 400


class InvalidRequestContent(ArmError):
    code = "InvalidRequestContent"
    status = 400


class ResourceNotFound(ArmError):
    code = "ResourceNotFound"
    status = 404


class ParentResourceNotFound(ArmError):
    code = "ParentResourceNotFound"
    status = 404


class InvalidResourceType(ArmError):
    code = "InvalidResourceType"
    status = 404


class Conflict(ArmError):
    code = "Conflict"
    status = 409


class TooManyRequests(ArmError):
    code = "TooManyRequests"
    status = 429


class InternalServerError(ArmError):
    code = "InternalServerError"
    status = 500


class ServiceUnavailable(ArmError):
    code = "ServiceUnavailable"
    status = 503
