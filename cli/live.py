"""A rollout followed live in the terminal: one row per wave, with counts and a progress bar.

The view is built from the operator API's answers (`GET /api/rollouts/{id}` and its
timeline); `follow` polls them until the rollout reaches a final state.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from cli.eta_render import eta_line, eta_of
from shared.revision import short_revision
from shared.states import ClusterState, RolloutState

FINAL = frozenset(
    {
        RolloutState.SUCCEEDED,
        RolloutState.FAILED,
        RolloutState.ROLLED_BACK,
        RolloutState.ABORTED,
        RolloutState.SUPERSEDED,
    }
)

SETTLED = frozenset(
    {
        ClusterState.HEALTHY,
        ClusterState.FAILED,
        ClusterState.SKIPPED,
        ClusterState.ROLLED_BACK,
        ClusterState.ROLLBACK_FAILED,
    }
)

_STYLES: dict[str, str] = {
    "Pending": "dim",
    "Running": "cyan",
    "Applying": "cyan",
    "Progressing": "yellow",
    "Soaking": "blue",
    "WaitingForApproval": "magenta",
    "Paused": "magenta",
    "Healthy": "green",
    "Succeeded": "bold green",
    "Skipped": "dim",
    "Offline": "dim",
    "Failed": "bold red",
    "RollingBack": "yellow",
    "RolledBack": "bold yellow",
    "RollbackFailed": "bold red",
    "Aborted": "bold red",
    "Superseded": "dim",
}

_CLUSTER_ORDER = [s.value for s in ClusterState]

Fetch = Callable[[], dict[str, Any]]
"""Returns the API's answer as a JSON object; raises when the API cannot be reached."""


def style_of(state: str) -> str:
    return _STYLES.get(state, "")


def state_text(state: str) -> Text:
    return Text(state, style=style_of(state))


def is_final(state: str) -> bool:
    return state in {s.value for s in FINAL}


@dataclass
class RolloutView:
    """What the terminal shows of one rollout; `update` feeds it the latest API answer."""

    title: str
    rollout_id: str
    started: float = field(default_factory=time.monotonic)
    detail: dict[str, Any] = field(default_factory=dict)

    def update(self, detail: dict[str, Any]) -> None:
        self.detail = detail

    @property
    def state(self) -> str:
        return str(self.detail.get("state", "Pending"))

    def __rich__(self) -> RenderableType:
        detail = self.detail
        revision = short_revision(str(detail.get("revision") or ""))
        elapsed = time.monotonic() - self.started
        head = Text.assemble(
            ("state ", "dim"),
            state_text(self.state),
            (f" ({detail.get('reason') or '-'})", "dim"),
            ("  revision ", "dim"),
            (revision or "-", "bold"),
            ("  elapsed ", "dim"),
            f"{elapsed:5.1f}s",
        )
        return Panel(
            Group(head, *rollout_body(detail)),
            title=f"[bold]{self.title}[/] · rollout {self.rollout_id}",
            title_align="left",
            border_style=style_of(self.state) or "white",
        )


def rollout_body(detail: dict[str, Any]) -> list[RenderableType]:
    """Below a rollout's heading: its waves, the clusters in trouble, its message."""
    parts: list[RenderableType] = []
    waves = detail.get("waves") or []
    if waves:
        parts.append(wave_table(waves))
    eta = eta_of(detail)
    if eta is not None:
        parts.append(eta_line(eta))
    troubles = trouble_lines(waves)
    if troubles:
        parts.append(Text("\n".join(troubles), style="red"))
    if detail.get("message"):
        parts.append(Text(str(detail["message"]), style="dim"))
    return parts


def wave_table(waves: Iterable[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, expand=True, show_edge=False)
    table.add_column("wave", style="bold", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("progress", no_wrap=True)
    table.add_column("clusters", ratio=1)
    table.add_column("reason", overflow="ellipsis", no_wrap=True, max_width=22)
    for wave in waves:
        clusters = wave.get("clusters") or []
        states = Counter(str(c.get("state")) for c in clusters)
        total = len(clusters)
        settled = sum(n for state, n in states.items() if state in {s.value for s in SETTLED})
        failed = states.get("Failed", 0) + states.get("RollbackFailed", 0)
        bar = ProgressBar(
            total=float(total or 1),
            completed=float(settled if total else 0),
            width=12,
            complete_style="red" if failed else "green",
            finished_style="red" if failed else "green",
        )
        progress = Table.grid(padding=(0, 1))
        progress.add_row(bar, Text(f"{settled}/{total}", style="dim"))
        table.add_row(
            str(wave.get("name")),
            state_text(str(wave.get("state"))),
            progress,
            counts_text(states),
            Text(str(wave.get("reason") or ""), style="dim"),
        )
    return table


def counts_text(states: Counter[str]) -> Text:
    text = Text()
    ordered = sorted(states, key=lambda s: _CLUSTER_ORDER.index(s) if s in _CLUSTER_ORDER else 99)
    for index, state in enumerate(ordered):
        if index:
            text.append(" · ", style="dim")
        text.append(f"{state} {states[state]}", style=style_of(state))
    return text


def trouble_lines(waves: Iterable[dict[str, Any]]) -> list[str]:
    """One line per cluster that failed, with its reason."""
    lines = []
    for wave in waves:
        for cluster in wave.get("clusters") or []:
            if cluster.get("state") in ("Failed", "RollbackFailed"):
                lines.append(
                    f"{cluster.get('name')} ({wave.get('name')}): {cluster.get('state')}, "
                    f"{cluster.get('reason') or 'no reason given'}"
                )
    return lines


def follow(
    out: Console,
    view: RolloutView,
    fetch: Fetch,
    timeline: Fetch,
    *,
    timeout: float,
    interval: float = 0.5,
) -> dict[str, Any]:
    """Show the rollout until it reaches a final state; returns the last detail.

    Timeline entries are printed above the live panel as they appear, so a log of the run
    remains when the output is not a terminal. TimeoutError when `timeout` passes first.
    """
    deadline = time.monotonic() + timeout
    seen = 0
    with Live(view, console=out, auto_refresh=False, transient=False) as live:
        while True:
            view.update(fetch())
            entries = timeline().get("timeline") or []
            for entry in entries[seen:]:
                live.console.print(timeline_line(view, entry), soft_wrap=True)
            seen = max(seen, len(entries))
            live.refresh()
            if is_final(view.state):
                return view.detail
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"rollout {view.rollout_id} still {view.state} after {timeout:.0f}s"
                )
            time.sleep(interval)


def timeline_line(view: RolloutView, entry: dict[str, Any]) -> Text:
    elapsed = time.monotonic() - view.started
    reason = str(entry.get("reason") or "")
    return Text.assemble(
        (f"{elapsed:6.1f}s ", "dim"),
        (f"{reason:<22}", style_of(_reason_state(reason)) or "bold"),
        " ",
        str(entry.get("message") or ""),
    )


def _reason_state(reason: str) -> str:
    if reason in ("FailureBudgetExceeded", "HealthCheckFailed", "RollbackFailed"):
        return "Failed"
    if reason in ("WaveSucceeded", "RolloutSucceeded"):
        return "Succeeded"
    if reason in ("RollingBack", "RolledBack"):
        return reason
    return ""
