"""The ways a Git webhook delivery or a Flux event can be refused.

`SignatureError` (answer 401 with no detail), `PayloadError` (400 with the problems),
`WebhookConfigError` (no secret configured: the operator's mistake, 500-class but never leaking
which secret), `UnknownProvider` (404).
"""

from collections.abc import Iterable

from shared.problems import InvalidInput, Problem


class WebhookError(Exception):
    """Base of every refusal raised by the webhook layer."""


class SignatureError(WebhookError):
    """The delivery is not signed (or authenticated) with a configured secret.

    The message names the header that failed, never a secret or a digest; callers answer 401
    without the message and may log it.
    """


class WebhookConfigError(WebhookError):
    """No usable secret is configured for the provider, so nothing can be verified."""


class UnknownProvider(WebhookError):
    """The provider name is not one arcwave reads."""


class PayloadError(WebhookError, InvalidInput):
    """The verified body or its headers are malformed; `problems` says where and why."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        InvalidInput.__init__(self, what, problems)


def payload_error(what: str, loc: str, kind: str, msg: str) -> PayloadError:
    """A `PayloadError` with one problem at `loc`."""
    return PayloadError(what, [Problem(loc, kind, msg)])


def shortened(text: str, limit: int = 120) -> str:
    """`text` cut to `limit` characters, so no input can make an error message long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
