"""`-o table|json|yaml`: the same data as a rich view, as JSON or as YAML.

JSON and YAML are the app's answer as it came (for reads and commands alike), so scripts can
rely on docs/api.md's shapes; docs/cli.md names the few shapes `arcwave` builds itself
(`tracks diff`, `context list`, the offline `plan --json`). Tables are for people and may
change.
"""

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.text import Text


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


OutputOption = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        help="table (for people), json or yaml (the app's answer as it came)",
        case_sensitive=False,
    ),
]


def console() -> Console:
    """Standard output, looked up when called (so a test's captured stdout is used)."""
    return Console(highlight=False, soft_wrap=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def dump(data: Any, output: Output) -> None:
    """`data` as JSON (2-space indent, keys in the app's order) or YAML, on stdout."""
    if output is Output.YAML:
        sys.stdout.write(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
        )
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit(data: Any, output: Output, table: Callable[[Console], None]) -> None:
    """`data` in the chosen format; `table` draws it for people."""
    if output is Output.TABLE:
        table(console())
    else:
        dump(data, output)


def print_error(message: str) -> None:
    """`error: message` on stderr, the message printed as it is (no markup read in it)."""
    error_console().print(Text.assemble(("error: ", "bold red"), message))


def print_warning(message: str) -> None:
    error_console().print(Text.assemble(("warning: ", "yellow"), message))


def print_note(message: str) -> None:
    """A line for people on stderr (so stdout stays the data)."""
    error_console().print(Text(message, style="dim"))
