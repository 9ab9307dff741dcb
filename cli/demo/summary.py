"""What the demo prints once both rollouts ended: a summary, the verdict, how to reach the API."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.demo.scenario import Outcome
from cli.demo.stack import Stack
from cli.demo.verdict import Verdict
from cli.live import state_text
from shared.revision import short_revision


def summary(out: Console, outcomes: list[Outcome]) -> None:
    table = Table(title="Summary", title_justify="left", title_style="bold")
    table.add_column("rollout", no_wrap=True)
    table.add_column("state")
    table.add_column("reason", overflow="fold")
    table.add_column("waves", no_wrap=True)
    table.add_column("took", justify="right")
    for outcome in outcomes:
        waves = Text()
        for index, wave in enumerate(outcome.detail.get("waves") or []):
            if index:
                waves.append("\n")
            waves.append(f"{wave.get('name')} ")
            waves.append_text(state_text(str(wave.get("state"))))
        table.add_row(
            f"{outcome.short}\n{short_revision(outcome.commit)}",
            state_text(outcome.state),
            str(outcome.detail.get("reason") or "-"),
            waves,
            f"{outcome.seconds:.1f}s",
        )
    out.print(table)
    for outcome in outcomes:
        count = len(outcome.detail.get("waves") or [])
        out.print(
            f"{outcome.label} {short_revision(outcome.commit)}: {outcome.state} "
            f"({outcome.detail.get('reason')}), {count} waves, {outcome.seconds:.1f}s "
            f"[dim]({outcome.rollout_id})[/]",
            soft_wrap=True,
        )


def verdict_lines(out: Console, verdict: Verdict) -> None:
    for fact in verdict.facts:
        out.print(f"[green]✓[/] {fact}")
    for problem in verdict.problems:
        out.print(f"[red]✗[/] {problem}")


def api_help(out: Console, stack: Stack) -> None:
    key, emulator = stack.devhost.function_key, stack.emulator
    out.print()
    out.print(f"dashboard: [bold]{stack.api_url}/ui[/]", soft_wrap=True)
    login = f"{stack.devhost.base_url}/.auth/login/aad?post_login_redirect_uri=/api/ui"
    out.print(
        f"sign in to it at {login} (devhost's stand-in for Entra ID: pick a name and roles; "
        "docs/dashboard.md)",
        soft_wrap=True,
    )
    out.print(f"API: [bold]{stack.api_url}[/]")
    out.print(f"function key: [bold]{key}[/] (send it as the x-functions-key header)")
    out.print(
        f"emulator control API: {emulator.endpoint}/_emulator/ (TLS cert {emulator.cert_path})"
    )
    out.print(f"try: curl -s -H 'x-functions-key: {key}' {stack.api_url}/rollouts", soft_wrap=True)
    out.print(
        "act as a signed-in user with roles (docs/security.md): "
        f"curl -s -X POST -H 'x-functions-key: {key}' {stack.devhost.base_url}/admin/devhost/token "
        """-d '{"name": "ada@contoso.com", "roles": ["arcwave.Approver"]}', then send """
        "Authorization: Bearer <token> with the key",
        soft_wrap=True,
    )


def passed(out: Console, took: float) -> None:
    out.print(
        f"[bold green]demo passed[/] in {took:.1f}s: the good commit rolled out wave by "
        "wave; the bad commit failed on the canary and was rolled back"
    )
