"""What a bench reports: figures, each with its target, and the table and JSON they make.

Every bench module in `bench/` has `figures(size) -> list[Figure]`; `python -m bench` (`make
bench`) calls each and prints one table. A bench measures and reports; whether a figure meets
its target is the table's business, never an assertion in the bench.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

WIDTH = 160
"""Columns of the table printed to a file or a pipe (a terminal gives its own width)."""


class Size(StrEnum):
    """How big a run is: `full` for the figures in docs/performance.md, `smoke` to show in
    `make test` that every bench still runs and reports every figure (its numbers mean
    nothing)."""

    FULL = "full"
    SMOKE = "smoke"


@dataclass(frozen=True)
class Target:
    """A figure's acceptance: at most or at least `value`."""

    op: Literal["<=", ">="]
    value: float

    def met(self, result: float) -> bool:
        if math.isnan(result):
            return False
        return result <= self.value if self.op == "<=" else result >= self.value

    def __str__(self) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {_number(self.value)}"


def at_most(value: float) -> Target:
    return Target("<=", value)


def at_least(value: float) -> Target:
    return Target(">=", value)


@dataclass(frozen=True)
class Figure:
    """One measured figure: what it is, its value and unit, its target (None: reported for
    context), and a short note on how it came about (e.g. `92.7 s / 82.6 s`)."""

    bench: str
    name: str
    value: float
    unit: str = ""
    target: Target | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def shown(self) -> str:
        return f"{_number(self.value)}{(' ' + self.unit) if self.unit else ''}"

    def target_shown(self) -> str:
        """`≤ 1.05 x`, `≥ 95 %`: the target with the first word of the unit."""
        if self.target is None:
            return ""
        unit = self.unit.split(" ", 1)[0]
        return f"{self.target} {unit}".rstrip()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = self.target_shown() or None
        data["value"] = None if math.isnan(self.value) else self.value
        data["passed"] = self.passed
        return data


def _number(value: float) -> str:
    if math.isnan(value):
        return "—"
    if value == int(value) and abs(value) >= 10:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def percentile(samples: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest sample with `share` of them at or below."""
    ranked = sorted(samples)
    rank = max(1, -(-len(ranked) * share // 1))
    return ranked[int(rank) - 1]


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }


def report(size: Size, figures: list[Figure], errors: dict[str, str]) -> dict[str, Any]:
    """The run as JSON: when, where, at which size, every figure and every bench that
    failed to run."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "size": size.value,
        "machine": machine(),
        "figures": [f.to_json() for f in figures],
        "errors": errors,
    }


def table(size: Size | str, figures: list[Figure], errors: dict[str, str]) -> Table:
    """One table: figure, target, result, pass/fail; a bench that failed to run is a row.
    `size`: a `Size`, or what else the run was (`custom`: a bench's own options)."""
    cores = os.cpu_count()
    title = f"arcwave benches ({size} size, {cores} cores)"
    grid = Table(title=title, title_justify="left", expand=False)
    for column in ("bench", "figure", "target", "result", ""):
        grid.add_column(column, overflow="fold")
    for figure in figures:
        verdict = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: ""}[figure.passed]
        result = figure.shown() + (f" [dim]({figure.note})[/]" if figure.note else "")
        grid.add_row(figure.bench, figure.name, figure.target_shown(), result, verdict)
    for bench, error in errors.items():
        grid.add_row(bench, "[red]did not run[/]", "", error, "[red]ERROR[/]")
    return grid


def show(size: Size | str, figures: list[Figure], errors: dict[str, str] | None = None) -> None:
    """Print the table (a bench run on its own uses it too); wide when printed to a file."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=WIDTH)
    console.print(table(size, figures, errors or {}))
