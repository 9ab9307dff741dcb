"""What every command that talks to the app shares: the global options, the API client of the
selected context, and following a rollout until it ends."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from cli.client import Api, ApiError, path
from cli.config import contexts_path, resolve, too_open
from cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_UNSUCCESSFUL, CliError
from cli.live import RolloutView, follow, is_final
from cli.output import Output, console, dump, print_note, print_warning

SUCCEEDED = "Succeeded"
TRANSIENT_SECONDS = 60.0
"""How long `watch` rides out an unreachable app or its 5xx answers before it gives up."""

IntervalOption = Annotated[
    float, typer.Option("--interval", min=0.1, help="seconds between two polls of the rollout")
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0, help="give up (exit 1) after this many seconds; 0: never"),
]


@dataclass(frozen=True)
class Globals:
    """The root command's options."""

    context: str | None = None


def api(ctx: typer.Context) -> Api:
    """The API of the context `--context` (or `ARCWAVE_CONTEXT`, or the current one) selects,
    with `ARCWAVE_URL`, `ARCWAVE_KEY` and `ARCWAVE_TOKEN` laid over it."""
    root = ctx.find_root().obj
    selected = root.context if isinstance(root, Globals) else None
    file = contexts_path()
    if too_open(file):
        print_warning(f"{file} holds secrets and others may read it: chmod 600 {file}")
    return Api(resolve(selected))


def watch(
    client: Api,
    rollout_id: str,
    output: Output,
    *,
    interval: float,
    timeout: float,
) -> int:
    """Follow a rollout until it reaches a final state: live on the terminal (`-o table`), or
    quietly, printing only the final rollout (`-o json|yaml`). 0 when it Succeeded, 5 for
    any other final state."""
    fetch = _riding_out(lambda: _body(client.get(path("rollouts", rollout_id)).body), interval)
    limit = timeout if timeout > 0 else math.inf
    if output is Output.TABLE:
        timeline = _riding_out(
            lambda: _body(client.get(path("rollouts", rollout_id, "timeline")).body), interval
        )
        first = fetch()
        view = RolloutView(title=f"track {first.get('track')}", rollout_id=rollout_id)
        out = console()
        try:
            detail = follow(out, view, fetch, timeline, timeout=limit, interval=interval)
        except TimeoutError as error:
            raise CliError(str(error), EXIT_FAILURE) from None
        if not out.is_terminal:
            out.line()  # the live panel ends without one when it is not drawn in place
        state = str(detail.get("state"))
        out.print(f"rollout [bold]{rollout_id}[/] ended [bold]{state}[/] ({detail.get('reason')})")
    else:
        detail = _poll(rollout_id, fetch, limit, interval)
        dump(detail, output)
        state = str(detail.get("state"))
    return EXIT_OK if state == SUCCEEDED else EXIT_UNSUCCESSFUL


def _poll(
    rollout_id: str, fetch: Callable[[], dict[str, Any]], limit: float, interval: float
) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while True:
        detail = fetch()
        if is_final(str(detail.get("state"))):
            return detail
        if time.monotonic() > deadline:
            raise CliError(
                f"rollout {rollout_id} still {detail.get('state')} after {limit:.0f}s",
                EXIT_FAILURE,
            )
        time.sleep(interval)


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise CliError(f"the app answered {type(body).__name__}, not a JSON object")
    return body


def _riding_out(
    call: Callable[[], dict[str, Any]], interval: float
) -> Callable[[], dict[str, Any]]:
    """`call`, retried every `interval` s while the app is unreachable or answers 5xx, for at
    most `TRANSIENT_SECONDS` in a row; any other error ends the watch at once."""

    def attempt() -> dict[str, Any]:
        since: float | None = None
        while True:
            try:
                return call()
            except ApiError as error:
                if error.status < 500:
                    raise
                failure: CliError = error
            except CliError as error:
                if error.code != EXIT_FAILURE:
                    raise
                failure = error
            since = since if since is not None else time.monotonic()
            if time.monotonic() - since > TRANSIENT_SECONDS:
                raise failure
            print_note(f"{failure.message.splitlines()[0]}; trying again")
            time.sleep(interval)

    return attempt
