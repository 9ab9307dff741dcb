"""`arcwave`: the operator's command line (docs/cli.md).

Offline, on files:

    arcwave validate --track TRACK.yaml [--json]
    arcwave plan --track TRACK.yaml --fleet FLEET.json [--start TIME] [--json]
    arcwave demo [--keep-serving] [--port 7071] [--state DIR] [--telemetry console]

Against a running app (a context saved by `arcwave login`, or ARCWAVE_URL and a credential):

    arcwave login --url URL (--key KEY | --entra --scope SCOPE [--device-code] | --token TOKEN)
    arcwave context list|use|delete
    arcwave tracks apply|get|list|delete|diff
    arcwave rollouts list|get|watch|start|approve|pause|resume|abort|rollback|override-windows
    arcwave timeline ID        arcwave fleet --track T        arcwave plan --track NAME

Exit codes (cli/errors.py): 0 ok, 1 anything else, 2 invalid input, 3 refused by the app,
4 not authorised, 5 the rollout ended unsuccessfully.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from cli.commands.contexts import context_app, login
from cli.commands.rollouts import fleet, live_plan, rollouts_app, timeline
from cli.commands.tracks import tracks_app
from cli.config import CONTEXT_ENV
from cli.demo import run_demo
from cli.errors import EXIT_CODES_HELP, EXIT_INVALID, EXIT_OK, CliError, UsageError
from cli.eta_render import render_eta
from cli.files import read_text
from cli.output import Output, OutputOption, console, dump, print_error
from cli.render import render_plan, render_spec
from cli.session import Globals
from shared.cluster import Cluster, parse_fleet
from shared.forecast import DEFAULT_BUDGET, plan_eta
from shared.planner import plan_rollout
from shared.problems import InvalidInput, Problem
from shared.times import utc_now
from shared.trackspec import TrackSpec, load_track_spec
from shared.version import __version__

__all__ = ["EXIT_INVALID", "UsageError", "app", "main", "run"]


class ArcwaveGroup(TyperGroup):
    """The root command: a failure any command explains (`CliError`, `InvalidInput`) is
    printed on stderr without a traceback and ends with its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as error:
            print_error(error.message)
            raise typer.Exit(error.code) from None
        except InvalidInput as error:
            print_error(str(error))
            raise typer.Exit(EXIT_INVALID) from None


app = typer.Typer(
    name="arcwave",
    cls=ArcwaveGroup,
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP + "\nEvery command: `arcwave COMMAND --help`. Docs: docs/cli.md.",
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"arcwave {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    ctx: typer.Context,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            envvar=CONTEXT_ENV,
            help="the saved context to use instead of the current one (arcwave context list)",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Wave-based, health-gated GitOps rollouts for Azure Arc fleets.

    Check and plan track specs offline, or drive a running app: register tracks, start,
    watch and steer rollouts. Log in first: `arcwave login --url URL --key KEY`.
    """
    ctx.obj = Globals(context=context)


# -- offline ---------------------------------------------------------------------------------


@app.command(epilog="Example: arcwave validate --track scenarios/demo/track.yaml")
def validate(
    track: Annotated[Path, typer.Option("--track", help="track spec (YAML or JSON)")],
    as_json: Annotated[
        bool, typer.Option("--json", help="print the resolved spec as JSON (-o json)")
    ] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Check a track spec and show it resolved, every default filled in (offline)."""
    spec = _read_track(track)
    chosen = Output.JSON if as_json else output
    if chosen is Output.JSON:
        console().print_json(json.dumps(spec.to_wire()))
    elif chosen is Output.YAML:
        dump(spec.to_wire(), chosen)
    else:
        render_spec(console(), spec, source=str(track))


@app.command(
    epilog="Examples: arcwave plan --track scenarios/demo/track.yaml --fleet "
    "scenarios/demo/fleet.json (offline) · arcwave plan --track baseline (the app's plan)"
)
def plan(
    ctx: typer.Context,
    track: Annotated[
        str,
        typer.Option(
            "--track", help="with --fleet: a track spec file; without: a registered track's name"
        ),
    ],
    fleet_file: Annotated[
        Path | None,
        typer.Option(
            "--fleet",
            help='JSON array of clusters or a Resource Graph response ({"data": [...]}): plan '
            "the file offline",
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option("--revision", help="without --fleet: the revision to plan (default: current)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the plan as JSON (-o json)")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="with --fleet: the ETA of a rollout started at this time (ISO 8601 with a "
            "UTC offset, e.g. 2026-12-05T22:00:00Z; default now)",
        ),
    ] = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """Show which cluster goes in which wave, in what order, and when each wave can start and
    finish at the earliest: offline for a spec and a fleet file, or the app's own plan of a
    registered track (it discovers the fleet; writes nothing)."""
    chosen = Output.JSON if as_json else output
    if fleet_file is None:
        if _names_a_file(track):
            raise UsageError(
                f"--track {track}: a track file is planned offline against a fleet: add "
                "--fleet FLEET.json (or give a registered track's name for the app's plan)"
            )
        if start:
            raise UsageError("--start goes with --fleet: the app's plan counts from now")
        live_plan(ctx, track, revision, chosen)
        return
    if revision:
        raise UsageError("--revision goes with a registered track's name, without --fleet")
    spec = _read_track(Path(track))
    clusters = _read_fleet(fleet_file)
    planned = plan_rollout(spec, clusters)
    eta = plan_eta(spec, planned, clusters, DEFAULT_BUDGET, None, _start_time(start))
    summary = {**planned.summary(), "eta": eta.to_wire()}
    if chosen is Output.JSON:
        sys.stdout.write(json.dumps(summary) + "\n")
    elif chosen is Output.YAML:
        dump(summary, chosen)
    else:
        render_plan(console(), planned, spec, clusters)
        render_eta(console(), eta)


@app.command(
    epilog="Example: arcwave demo --port 0",
)
def demo(
    keep_serving: Annotated[
        bool,
        typer.Option(
            "--keep-serving",
            help="keep the emulator and devhost running after the demo, until Ctrl-C",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="devhost port for the API (0 picks a free one)")
    ] = 7071,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="folder for the store, devhost state, TLS and logs (default: a new temporary one)",
        ),
    ] = None,
    telemetry: Annotated[
        str | None,
        typer.Option(
            "--telemetry",
            help="the app's OpenTelemetry exporter (ARCWAVE_OTEL_EXPORTER): 'console' prints "
            "spans and metrics in devhost's log and checks the first rollout is one trace",
        ),
    ] = None,
) -> None:
    """Run the emulator and the function app, roll a good and a bad commit, live.

    Start the emulator (scenarios/demo.yaml) and devhost, register the demo track, push a
    good commit and a failing one, and show both rollouts live. Exits 0 only when the first
    succeeds and the second is rolled back after failing on the canary.
    """
    if telemetry not in (None, "console"):
        raise typer.BadParameter("use 'console'", param_hint="--telemetry")
    args = argparse.Namespace(
        keep_serving=keep_serving, port=port, state=state, telemetry=telemetry
    )
    code = run_demo(args, console())
    if code:
        raise typer.Exit(code)


# -- against the app -------------------------------------------------------------------------

app.command(
    "login",
    epilog="Examples: arcwave login --url https://func-arcwave.azurewebsites.net --key KEY · "
    "arcwave login --url https://func-arcwave.azurewebsites.net --key KEY --entra --scope "
    "api://<client-id>/.default --context prod",
)(login)
app.add_typer(context_app)
app.add_typer(tracks_app)
app.add_typer(rollouts_app)
app.command("timeline", epilog="Example: arcwave timeline baseline-2b7e0c1-5f3a9c1e -o yaml")(
    timeline
)
app.command("fleet", epilog="Example: arcwave fleet --track baseline")(fleet)


# -- files -----------------------------------------------------------------------------------


def _names_a_file(track: str) -> bool:
    """Whether `--track` is a file rather than a track's name (names have no `.` or `/`)."""
    return any(c in track for c in "./\\") or Path(track).exists()


def _start_time(text: str | None) -> datetime:
    if text is None:
        return utc_now()
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise UsageError(
            f"--start {text}: give a date and time with its UTC offset, e.g. "
            "2026-12-05T22:00:00Z or 2026-12-05T23:00:00+01:00"
        )
    return at.astimezone(UTC)


def _read_track(path: Path) -> TrackSpec:
    try:
        return load_track_spec(read_text(path, "--track"))
    except InvalidInput as error:
        raise InvalidInput(f"track spec {path}", error.problems) from None


def _read_fleet(path: Path) -> list[Cluster]:
    text = read_text(path, "--fleet")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidInput(
            f"fleet {path}", [Problem(where, "json", f"not valid JSON: {error.msg}")]
        ) from None
    try:
        return parse_fleet(data)
    except InvalidInput as error:
        raise InvalidInput(f"fleet {path}", error.problems) from None


# -- entry points ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run `arcwave` with `argv` (default: the process's arguments); the exit code."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="arcwave")
    except SystemExit as exit_:
        code = exit_.code
        if code is None:
            return EXIT_OK
        return code if isinstance(code, int) else 1
    return EXIT_OK


def run() -> NoReturn:
    """Entry point for `python -m cli`."""
    sys.exit(main())
