"""How `arcwave` fails: one exception with an exit code, and the codes themselves.

    0  ok
    1  anything else: 404, 5xx, the app unreachable, a TLS or timeout failure
    2  invalid input: checked locally, or the app's 400 / 413
    3  refused by the app: 409 (conflicts with the current state), 412 (stale If-Match)
    4  not authorised: 401, 403 (the message names the role needed)
    5  the rollout ended unsuccessfully (watch, and start / rollback with --watch)

docs/cli.md documents them; `arcwave --help` shows them.
"""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2
EXIT_REFUSED = 3
EXIT_UNAUTHORISED = 4
EXIT_UNSUCCESSFUL = 5

EXIT_CODES_HELP = (
    "Exit codes:\n\n"
    "- 0 ok\n"
    "- 1 anything else: 404, 5xx, the app unreachable\n"
    "- 2 invalid input: checked locally, or the app's 400 / 413\n"
    "- 3 refused by the app: 409, 412\n"
    "- 4 not authorised: 401, 403\n"
    "- 5 the rollout ended unsuccessfully (watch; start, rollback with --watch)\n"
)


class CliError(Exception):
    """A failure `arcwave` explains in one message (never a traceback) and exits with `code`.

    The message never holds a key or token."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(CliError):
    """Input the command cannot use: exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_INVALID)


def exit_code_for(status: int) -> int:
    """The exit code of an HTTP error answer."""
    if status in (400, 413):
        return EXIT_INVALID
    if status in (409, 412):
        return EXIT_REFUSED
    if status in (401, 403):
        return EXIT_UNAUTHORISED
    return EXIT_FAILURE
