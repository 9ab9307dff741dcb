"""ARM plumbing shared by the fleet gateway: credentials, pipeline options, error mapping.

Clients are the real azure-mgmt ones; only the endpoint, the trusted CA and the credential
change between Azure and the emulator. Every call has connect and read timeouts. 429s are not
retried by azure-core here: the gateway's token bucket must hear about them to slow down.
"""

import time
from typing import Any

import requests
import requests.adapters
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import RequestsTransport

from shared.errors import (
    ArcwaveError,
    Forbidden,
    Invalid,
    NotFound,
    Throttled,
    TransientError,
    one_line,
)
from shared.settings import CredentialKind, Settings

CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60
DEFAULT_RETRY_AFTER_SECONDS = 5.0
BUSY_RETRY_SECONDS = 5.0
POOL_CONNECTIONS = 32


class StaticTokenCredential:
    """A credential for the emulator: any bearer token is accepted there."""

    def __init__(self, token: str = "arcwave-emulator") -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


class ThrottleAwareRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core's retries for 5xx and connection errors, but never for 429."""

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if response.http_response.status_code == 429:
            return False
        return bool(super().is_retry(settings, response))


def credential_for(settings: Settings) -> TokenCredential:
    """DefaultAzureCredential in Azure, a static token against the emulator."""
    if settings.credential is CredentialKind.EMULATOR:
        return StaticTokenCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def pooled_transport(settings: Settings, connections: int = POOL_CONNECTIONS) -> RequestsTransport:
    """An HTTP transport whose connection pool fits arcwave's parallel writes."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=connections)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    verify: str | bool = str(settings.arm_ca_bundle) if settings.arm_ca_bundle else True
    return RequestsTransport(
        session=session,
        session_owner=True,
        connection_verify=verify,
        connection_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments every ARM client of arcwave is built with (a fresh transport each)."""
    options: dict[str, Any] = {
        "base_url": settings.arm_endpoint,
        "transport": pooled_transport(settings),
        "retry_policy": ThrottleAwareRetryPolicy(retry_total=3, retry_backoff_factor=0.5),
        "polling_interval": 1,
    }
    return options


REMAINING_WRITES = "x-ms-ratelimit-remaining-subscription-writes"
REMAINING_DELETES = "x-ms-ratelimit-remaining-subscription-deletes"


def remaining_header(method: str) -> str:
    """The header in which ARM says how many requests of `method`'s kind the subscription has
    left: deletes have their own bucket, every other write shares the writes bucket."""
    return REMAINING_DELETES if method.upper() == "DELETE" else REMAINING_WRITES


def remaining_of(response: PipelineResponse[Any, Any], method: str) -> int | None:
    """What an answer says is left of the subscription's bucket for `method` (None when it
    does not say, or says something that is not a count)."""
    value = response.http_response.headers.get(remaining_header(method))
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def retry_after(error: HttpResponseError) -> float:
    """Seconds from a 429's Retry-After (or a sensible default)."""
    response: Any = error.response
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(float(header), 0.0) if header else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS


def map_arm_error(error: Exception, doing: str) -> ArcwaveError:
    """Turn an azure-core error into arcwave's, with `doing` saying what failed."""
    if isinstance(error, ArcwaveError):
        return error
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return TransientError(f"{doing}: connection failed: {one_line(str(error))}")
    if isinstance(error, ClientAuthenticationError):
        return Forbidden(f"{doing}: not authenticated: {_detail(error)}")
    if isinstance(error, ResourceNotFoundError):
        return NotFound(f"{doing}: not found: {_detail(error)}")
    if isinstance(error, HttpResponseError):
        status = error.status_code or 0
        if status == 429:
            delay = retry_after(error)
            return Throttled(f"{doing}: throttled by ARM, retry in {delay:g}s", delay=delay)
        if status in (401, 403):
            return Forbidden(
                f"{doing}: forbidden ({_detail(error)}); grant arcwave's identity the arcwave "
                "role on this scope (docs/deploy.md)"
            )
        if status == 404:
            return NotFound(f"{doing}: not found: {_detail(error)}")
        if status == 409:
            # ARM answers 409 while a resource is busy, e.g. being deleted: it passes.
            return TransientError(
                f"{doing}: busy (409): {_detail(error)}", delay=BUSY_RETRY_SECONDS
            )
        if status == 408 or status >= 500:
            return TransientError(f"{doing}: ARM answered {status}: {_detail(error)}")
        return Invalid(f"{doing}: refused ({status}): {_detail(error)}")
    return TransientError(f"{doing}: {type(error).__name__}: {one_line(str(error))}")


def _detail(error: HttpResponseError) -> str:
    code = getattr(error.error, "code", None) if error.error is not None else None
    message = getattr(error.error, "message", None) if error.error is not None else None
    if code or message:
        return one_line(f"({code}) {message}" if code else str(message))
    return one_line(error.message or str(error))


def error_kind(error: ArcwaveError) -> str:
    """`Throttled`, `Transient`, or the permanent error's code (`NotFound`, `Invalid`...)."""
    if isinstance(error, Throttled):
        return "Throttled"
    if isinstance(error, TransientError):
        return "Transient"
    return getattr(error, "code", "Permanent")


def call_outcome(error: Exception) -> str:
    """How a failed ARM call shows on its span and metrics (`shared.telemetry.arm_call`)."""
    return error_kind(map_arm_error(error, "ARM call"))
