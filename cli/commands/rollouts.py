"""`arcwave rollouts ...`, `arcwave timeline`, `arcwave fleet` and the live `arcwave plan`:
rollouts and what the app knows of the fleet (docs/api.md, Rollouts and Fleet)."""

from typing import Annotated, Any

import typer
from rich.console import Console

from cli.client import path
from cli.errors import CliError
from cli.output import Output, OutputOption, console, emit
from cli.session import IntervalOption, TimeoutOption, api, watch
from cli.tables import fleet_table, plan_view, rollout_view, rollouts_table, spec_of
from cli.tables import timeline_table as draw_timeline
from shared.revision import short_revision

rollouts_app = typer.Typer(
    name="rollouts",
    help="Start, follow and steer rollouts: approve, pause, resume, abort, roll back, "
    "override maintenance windows.",
    no_args_is_help=True,
)

RolloutId = Annotated[str, typer.Argument(help="the rollout's id, e.g. baseline-2b7e0c1-5f3a9c1e")]
WatchOption = Annotated[
    bool,
    typer.Option(
        "--watch", "-w", help="follow the rollout until it ends: exit 0 if it Succeeded, else 5"
    ),
]
DEFAULT_INTERVAL = 2.0


@rollouts_app.command("list", epilog="Example: arcwave rollouts list --track baseline")
def list_rollouts(
    ctx: typer.Context,
    track: Annotated[str | None, typer.Option("--track", "-t", help="only this track")] = None,
    state: Annotated[
        str | None, typer.Option("--state", "-s", help="only this state, e.g. Running")
    ] = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """List rollouts, newest first."""
    body = api(ctx).get(path("rollouts"), params={"track": track or "", "state": state or ""}).body
    emit(body, output, lambda out: rollouts_table(out, body.get("rollouts") or []))


@rollouts_app.command("get", epilog="Example: arcwave rollouts get baseline-2b7e0c1-5f3a9c1e")
def get(ctx: typer.Context, rollout_id: RolloutId, output: OutputOption = Output.TABLE) -> None:
    """Show a rollout: its state, and each wave with its clusters."""
    body = api(ctx).get(path("rollouts", rollout_id)).body
    emit(body, output, lambda out: rollout_view(out, body))


@rollouts_app.command(
    "watch", epilog="Example: arcwave rollouts watch baseline-2b7e0c1-5f3a9c1e && echo shipped"
)
def watch_rollout(
    ctx: typer.Context,
    rollout_id: RolloutId,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = 0,
    output: OutputOption = Output.TABLE,
) -> None:
    """Follow a rollout live until it ends. Exit 0 when it Succeeded, 5 when it ended
    otherwise (RolledBack, Failed, Aborted, Superseded). With -o json, prints only the final
    rollout."""
    raise typer.Exit(watch(api(ctx), rollout_id, output, interval=interval, timeout=timeout))


@rollouts_app.command(
    "start",
    epilog="Example: arcwave rollouts start --track baseline --revision "
    "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e --reason 'hotfix' --watch",
)
def start(
    ctx: typer.Context,
    track: Annotated[str, typer.Option("--track", "-t", help="the track")],
    revision: Annotated[
        str, typer.Option("--revision", "-r", help="a 40-hex commit, or tag@sha256:… (OCI)")
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="why, recorded in the log")] = None,
    follow: WatchOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = 0,
    output: OutputOption = Output.TABLE,
) -> None:
    """Roll a revision out on a track (POST /api/tracks/{track}/rollouts). It is queued when
    the track has a rollout running. With --watch, follow it; with --watch -o json, print
    only the final rollout."""
    client = api(ctx)
    body: dict[str, Any] = {"revision": revision}
    if reason:
        body["reason"] = reason
    handed = client.post(path("tracks", track, "rollouts"), body).body
    rollout_id = handed.get("rolloutId")
    if follow and rollout_id:
        if output is Output.TABLE:
            _print_started(handed)
        raise typer.Exit(watch(client, str(rollout_id), output, interval=interval, timeout=timeout))
    emit(handed, output, lambda out: _print_started(handed, out))


def _print_started(handed: dict[str, Any], out: Console | None = None) -> None:
    out = out or console()
    rollout_id = handed.get("rolloutId")
    revision = short_revision(str(handed.get("revision") or ""))
    if not rollout_id:
        out.print(f"track [bold]{handed.get('track')}[/]: nothing to roll out for {revision}")
        return
    queued = " (queued behind the running rollout)" if handed.get("queued") else ""
    out.print(
        f"rollout [bold]{rollout_id}[/] of {revision} on track {handed.get('track')} "
        f"started{queued}"
    )


def _command(ctx: typer.Context, rollout_id: str, command: str, body: Any, output: Output) -> None:
    answer = api(ctx).post(path("rollouts", rollout_id, command), body).body
    emit(
        answer,
        output,
        lambda out: out.print(
            f"{command} sent to rollout [bold]{rollout_id}[/] (state {answer.get('state')})"
        ),
    )


@rollouts_app.command(
    "approve", epilog="Example: arcwave rollouts approve baseline-2b7e0c1-5f3a9c1e"
)
def approve(ctx: typer.Context, rollout_id: RolloutId, output: OutputOption = Output.TABLE) -> None:
    """Approve the wave waiting for approval (needs the Approver role; 409 unless waiting)."""
    _command(ctx, rollout_id, "approve", None, output)


@rollouts_app.command("pause", epilog="Example: arcwave rollouts pause baseline-2b7e0c1-5f3a9c1e")
def pause(ctx: typer.Context, rollout_id: RolloutId, output: OutputOption = Output.TABLE) -> None:
    """Pause a rollout: clusters in flight settle, no new cluster is written."""
    _command(ctx, rollout_id, "pause", None, output)


@rollouts_app.command("resume", epilog="Example: arcwave rollouts resume baseline-2b7e0c1-5f3a9c1e")
def resume(ctx: typer.Context, rollout_id: RolloutId, output: OutputOption = Output.TABLE) -> None:
    """Resume a paused rollout."""
    _command(ctx, rollout_id, "resume", None, output)


@rollouts_app.command(
    "abort", epilog="Example: arcwave rollouts abort baseline-2b7e0c1-5f3a9c1e --rollback"
)
def abort(
    ctx: typer.Context,
    rollout_id: RolloutId,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="also put back what the rollout wrote on clusters"),
    ] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Abort a rollout; with --rollback, its clusters are rolled back too."""
    _command(ctx, rollout_id, "abort", {"rollback": rollback}, output)


@rollouts_app.command(
    "override-windows",
    epilog="Example: arcwave rollouts override-windows baseline-2b7e0c1-5f3a9c1e "
    "--reason 'CVE-2026-1234 hotfix, change CHG-42'",
)
def override_windows(
    ctx: typer.Context,
    rollout_id: RolloutId,
    reason: Annotated[
        str, typer.Option("--reason", help="why the windows must be overridden (recorded)")
    ],
    output: OutputOption = Output.TABLE,
) -> None:
    """Emergency: let a rollout write clusters outside their maintenance windows from now on
    (needs the Admin role; recorded on the timeline with who and why)."""
    _command(ctx, rollout_id, "override-windows", {"reason": reason}, output)


@rollouts_app.command(
    "rollback", epilog="Example: arcwave rollouts rollback baseline-2b7e0c1-5f3a9c1e --watch"
)
def rollback(
    ctx: typer.Context,
    rollout_id: RolloutId,
    fast: Annotated[
        bool,
        typer.Option("--fast", help="roll every cluster back at once, not wave by wave"),
    ] = False,
    follow: WatchOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = 0,
    output: OutputOption = Output.TABLE,
) -> None:
    """Undo a finished rollout: a new rollout puts back the revision before it
    (POST /api/rollouts/{id}/rollback). With --watch, follow the new rollout."""
    client = api(ctx)
    answer = client.post(path("rollouts", rollout_id, "rollback"), {"fast": fast}).body
    new_id = answer.get("rolloutId") if isinstance(answer, dict) else None
    if follow:
        if not new_id:
            raise CliError(f"the app started no rollout to roll back {rollout_id}: {answer}")
        if output is Output.TABLE:
            _print_rollback(rollout_id, str(new_id))
        raise typer.Exit(watch(client, str(new_id), output, interval=interval, timeout=timeout))
    emit(answer, output, lambda out: _print_rollback(rollout_id, str(new_id), out))


def _print_rollback(rollout_id: str, new_id: str, out: Console | None = None) -> None:
    (out or console()).print(f"rollback of {rollout_id} started: rollout [bold]{new_id}[/]")


def timeline(
    ctx: typer.Context, rollout_id: RolloutId, output: OutputOption = Output.TABLE
) -> None:
    """A rollout's audit trail, oldest first: every decision and command, with who made it."""
    body = api(ctx).get(path("rollouts", rollout_id, "timeline")).body
    emit(body, output, lambda out: draw_timeline(out, body))


def fleet(
    ctx: typer.Context,
    track: Annotated[str, typer.Option("--track", "-t", help="the track")],
    output: OutputOption = Output.TABLE,
) -> None:
    """Each cluster of a track: its wave, state, and desired, applied and last good revision."""
    body = api(ctx).get(path("fleet"), params={"track": track}).body
    emit(body, output, lambda out: fleet_table(out, body))


def live_plan(ctx: typer.Context, track: str, revision: str | None, output: Output) -> None:
    """The app's plan of a registered track (POST /api/tracks/{name}/plan), drawn as the
    offline plan is."""
    client = api(ctx)
    answer = client.post(
        path("tracks", track, "plan"), {"revision": revision} if revision else None
    )
    body = answer.body

    def table(out: Console) -> None:
        spec = spec_of(client.get(path("tracks", track)).body)
        names = [w.get("name") for w in body.get("waves") or []]
        if spec is None or [w.name for w in spec.waves] != names:
            raise CliError(f"track {track} changed while it was planned; run the command again")
        plan_view(out, body, spec)

    emit(body, output, table)
