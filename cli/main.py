"""`arcwave`: the operator's command line.

    arcwave validate --track TRACK.yaml
    arcwave plan --track TRACK.yaml --fleet FLEET.json [--json]
    arcwave demo [--keep-serving] [--port 7071] [--state DIR]

Exit codes: 0 success, 1 unexpected failure, 2 invalid input (the message names the field).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from cli.demo import run_demo
from cli.render import render_plan, render_spec
from shared.cluster import Cluster, parse_fleet
from shared.planner import plan_rollout
from shared.problems import InvalidInput, Problem
from shared.trackspec import TrackSpec, load_track_spec
from shared.version import __version__

EXIT_INVALID = 2


class UsageError(Exception):
    """Input the command cannot use; printed without a traceback, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out = Console(highlight=False, soft_wrap=False)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result: int = args.handler(args, out)
        return result
    except InvalidInput as error:
        err.print(f"[bold red]error:[/] {error}", markup=True)
        return EXIT_INVALID
    except UsageError as error:
        err.print(f"[bold red]error:[/] {error}", markup=True)
        return EXIT_INVALID


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arcwave",
        description="Wave-based, health-gated GitOps rollouts for Azure Arc fleets.",
    )
    parser.add_argument("--version", action="version", version=f"arcwave {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a track spec and show it resolved")
    validate.add_argument("--track", required=True, type=Path, help="track spec (YAML or JSON)")
    validate.add_argument("--json", action="store_true", help="print the resolved spec as JSON")
    validate.set_defaults(handler=_validate)

    plan = commands.add_parser("plan", help="show which cluster goes in which wave, in what order")
    plan.add_argument("--track", required=True, type=Path, help="track spec (YAML or JSON)")
    plan.add_argument(
        "--fleet",
        required=True,
        type=Path,
        help='JSON array of clusters or a Resource Graph response ({"data": [...]})',
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(handler=_plan)

    demo = commands.add_parser(
        "demo",
        help="run the emulator and the function app, roll a good and a bad commit, live",
        description="Start the emulator (scenarios/demo.yaml) and devhost, register the demo "
        "track, push a good commit and a failing one, and show both rollouts live. Exits 0 only "
        "when the first succeeds and the second is rolled back after failing on the canary.",
    )
    demo.add_argument(
        "--keep-serving",
        action="store_true",
        help="keep the emulator and devhost running after the demo, until Ctrl-C",
    )
    demo.add_argument(
        "--port", type=int, default=7071, help="devhost port for the API (0 picks a free one)"
    )
    demo.add_argument(
        "--state",
        type=Path,
        default=None,
        help="folder for the store, devhost state, TLS and logs (default: a new temporary one)",
    )
    demo.set_defaults(handler=run_demo)
    return parser


def _validate(args: argparse.Namespace, out: Console) -> int:
    spec = _read_track(args.track)
    if args.json:
        out.print_json(json.dumps(spec.to_wire()))
    else:
        render_spec(out, spec, source=str(args.track))
    return 0


def _plan(args: argparse.Namespace, out: Console) -> int:
    spec = _read_track(args.track)
    fleet = _read_fleet(args.fleet)
    plan = plan_rollout(spec, fleet)
    if args.json:
        sys.stdout.write(json.dumps(plan.summary()) + "\n")
    else:
        render_plan(out, plan, spec, fleet)
    return 0


def _read_track(path: Path) -> TrackSpec:
    try:
        return load_track_spec(_read_text(path, "--track"))
    except InvalidInput as error:
        raise InvalidInput(f"track spec {path}", error.problems) from None


def _read_fleet(path: Path) -> list[Cluster]:
    text = _read_text(path, "--fleet")
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


def _read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{option} {path}: is a directory, expected a file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{option} {path}: cannot read it ({error})") from None


def run() -> NoReturn:
    """Entry point for `python -m cli`."""
    sys.exit(main())
