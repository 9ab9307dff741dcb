"""What can go wrong when arcwave talks to the world, in the words the caller acts on.

    ArcwaveError
     ├── TransientError(delay)   try again later: 5xx, timeouts, connection resets
     │    └── Throttled          Azure said 429; `delay` is its Retry-After
     └── PermanentError          trying again will not help
          ├── NotFound           the cluster or configuration does not exist
          ├── Invalid            Azure refused the request body or parameters
          └── Forbidden          arcwave's identity lacks the right; grant the arcwave role

Adapters raise these chained (`raise ... from error`) to the SDK error, with messages cut to
one line an operator can read: lower-case, names in single quotes, what failed and why.
Activities let transient errors fail the attempt (durable retries take over) and turn
permanent ones into per-cluster outcomes.
"""


class ArcwaveError(Exception):
    """Base of arcwave's adapter errors."""


class TransientError(ArcwaveError):
    """The operation may succeed if tried again after `delay` seconds."""

    def __init__(self, message: str, *, delay: float = 5.0) -> None:
        super().__init__(message)
        self.delay = delay


class Throttled(TransientError):
    """Azure answered 429; wait `delay` (its Retry-After) before the next call."""


class PermanentError(ArcwaveError):
    """Trying again will not help; the message says what to change."""

    code: str = "Permanent"


class NotFound(PermanentError):
    code = "NotFound"


class Invalid(PermanentError):
    code = "Invalid"


class Forbidden(PermanentError):
    code = "Forbidden"


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and cut, so bodies from Azure never flood a log line."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
