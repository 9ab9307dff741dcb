"""`arcwave tracks apply|get|list|delete|diff`: tracks on the app (docs/api.md, Tracks)."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from cli.client import ApiError, path
from cli.diff import changes, normalised, recreates
from cli.errors import EXIT_OK, CliError, UsageError
from cli.files import read_text
from cli.output import Output, OutputOption, emit
from cli.session import api
from cli.tables import diff_view, track_view, tracks_table
from shared.documents import parse_document
from shared.problems import InvalidInput, Problem
from shared.trackspec import validate_track_spec

tracks_app = typer.Typer(
    name="tracks",
    help="Create, read, compare and delete the tracks of the app.",
    no_args_is_help=True,
)

FileOption = Annotated[
    Path, typer.Option("--file", "-f", help="a track spec, YAML or JSON (docs/track-spec.md)")
]
EXIT_DIFFERS = 1


def read_spec_document(file: Path) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and the mapping it holds, which must name its track."""
    text = read_text(file, "--file")
    what = f"track spec {file}"
    data = parse_document(text, what)
    if not isinstance(data, dict):
        raise InvalidInput(what, [Problem("", "dict_type", "a track spec must be a mapping")])
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(
            what, [Problem("name", "missing", "the track's name: which track to create or replace")]
        )
    return text.encode("utf-8"), data


@tracks_app.command(
    "apply",
    epilog="Example: arcwave tracks apply -f scenarios/demo/track.yaml",
)
def apply(
    ctx: typer.Context,
    file: FileOption,
    recreate: Annotated[
        bool,
        typer.Option(
            "--recreate",
            help="accept a change of configuration.scope or .namespace (create-only in Azure): "
            "the next rollout deletes and re-creates the configuration on each cluster",
        ),
    ] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Create or replace the track a spec file names (PUT /api/tracks/{name}).

    The app validates the spec and answers every problem at once (exit 2). A running rollout
    keeps the spec it was planned with; the change applies from the next one.
    """
    content, data = read_spec_document(file)
    name = str(data["name"])
    kind = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    client = api(ctx)
    try:
        answer = client.put(
            path("tracks", name), content, kind, params={"recreate": "true"} if recreate else None
        )
    except ApiError as error:
        if error.status == 409 and isinstance(error.body, dict) and error.body.get("fields"):
            error.message += "\n  to re-create the configuration: arcwave tracks apply --recreate"
        raise
    body = answer.body

    def table(out: Any) -> None:
        done = "created" if answer.status == 201 else "replaced"
        out.print(f"track [bold]{name}[/] {done} (spec version {body.get('specVersion')})")
        if body.get("notice"):
            out.print(Text(str(body["notice"]), style="yellow"))

    emit(body, output, table)


@tracks_app.command("get", epilog="Example: arcwave tracks get baseline -o yaml")
def get(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the track")],
    output: OutputOption = Output.TABLE,
) -> None:
    """Show a track: its revisions, active rollout and spec with every default filled in."""
    body = api(ctx).get(path("tracks", name)).body
    emit(body, output, lambda out: track_view(out, body))


@tracks_app.command("list", epilog="Example: arcwave tracks list -o json")
def list_tracks(ctx: typer.Context, output: OutputOption = Output.TABLE) -> None:
    """List the tracks with their current and last good revisions."""
    body = api(ctx).get(path("tracks")).body
    emit(body, output, lambda out: tracks_table(out, body.get("tracks") or []))


@tracks_app.command("delete", epilog="Example: arcwave tracks delete baseline --yes")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the track")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Delete a track (the app refuses while a rollout is active: exit 3). What it wrote on
    clusters stays."""
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"deleting track '{name}' needs --yes when not run interactively")
        if not typer.confirm(f"Delete track {name}?", default=False):
            raise CliError("not deleted")
    body = api(ctx).delete(path("tracks", name)).body
    emit(body, output, lambda out: out.print(f"track [bold]{name}[/] deleted"))


@tracks_app.command(
    "diff",
    epilog="Example: arcwave tracks diff -f scenarios/demo/track.yaml --exit-code",
)
def diff(
    ctx: typer.Context,
    file: FileOption,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="exit 1 when there are differences (as git diff does)"),
    ] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Compare a spec file with the track on the app, field by field, both with every default
    filled in as the app fills them. Create-only fields (configuration.scope, .namespace) are
    marked: changing them re-creates the configuration on every cluster.
    """
    _, data = read_spec_document(file)
    try:
        local = validate_track_spec(data).to_wire()
    except InvalidInput as error:
        raise InvalidInput(f"track spec {file}", error.problems) from None
    name = str(local["name"])
    try:
        remote: dict[str, Any] | None = normalised(
            api(ctx).get(path("tracks", name)).body.get("spec") or {}
        )
    except ApiError as error:
        if error.status != 404:
            raise
        remote = None
    found = changes(remote, local)
    recreated = recreates(found)
    report = {
        "track": name,
        "exists": remote is not None,
        "differs": bool(found),
        "changes": [c.to_wire() for c in found],
        "recreates": [c.path for c in recreated],
    }
    emit(report, output, lambda out: diff_view(out, name, remote is not None, found, recreated))
    if exit_code and found:
        raise typer.Exit(EXIT_DIFFERS)
    raise typer.Exit(EXIT_OK)
