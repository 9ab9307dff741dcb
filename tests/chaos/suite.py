"""An invocation of the chaos suite: its runs, one after the other, and the table of results.

`chaos(size, seed, folder)` plans every run from `seed` (run i uses `<seed>:<i>`), carries them
out and returns the `Summary`; `table()` renders it with rich. The same seed replays the same
plan: the same commits, and every fault at the same moment after its push (what the app does
in between is real concurrency, so interleavings still vary from one replay to the next).
"""

from __future__ import annotations

import io
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table

from tests.chaos.fleet import Fleet
from tests.chaos.invariants import HARNESS, INVARIANTS, Violation
from tests.chaos.plan import Kind, Size, plan_run, plan_text
from tests.chaos.run import RunResult, execute


@dataclass
class Summary:
    size: Size
    seed: int
    results: list[RunResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def violations(self) -> list[Violation]:
        return [v for r in self.results for v in r.violations]

    @property
    def kills(self) -> int:
        return sum(r.kills for r in self.results)

    @property
    def done(self) -> Counter[Kind]:
        total: Counter[Kind] = Counter()
        for result in self.results:
            total.update(result.done)
        return total


def chaos(
    size: Size,
    seed: int,
    folder: Path,
    *,
    only: list[int] | None = None,
    say: Callable[[str], None] = print,
    keep: bool = False,
) -> Summary:
    """Carry out the runs of `size` (or only those numbered in `only`); each run's folder is
    removed when it kept every promise, unless `keep`."""
    summary = Summary(size, seed)
    fleet = Fleet.of_size(size.clusters)
    began = time.monotonic()
    for index in only if only is not None else range(size.runs):
        run = plan_run(seed, index, size, fleet)
        say(plan_text(run))
        run_folder = folder / f"run-{index}"
        result = execute(run, size, run_folder, fleet)
        summary.results.append(result)
        verdict = "ok" if not result.violations else f"{len(result.violations)} violations"
        ended = " → ".join(f"{o.state or 'open'} in {o.seconds:.0f}s" for o in result.outcomes)
        say(f"run {index}: {ended}; {result.kills} kills; {result.seconds:.0f}s; {verdict}")
        for line in result.log:
            if line.startswith("phase"):
                say(f"  {line}")
        for violation in result.violations:
            say(f"  VIOLATION [{violation.invariant}] {violation.detail}")
        if result.violations:
            say(f"  logs kept in {run_folder}")
        elif not keep:
            shutil.rmtree(run_folder, ignore_errors=True)
    summary.seconds = time.monotonic() - began
    return summary


KINDS = (Kind.KILL, Kind.ARM_5XX, Kind.ARM_429, Kind.OFFLINE, Kind.EMULATOR, Kind.REDELIVERY)
SHORT_NAMES = {
    Kind.KILL: "kills",
    Kind.ARM_5XX: "5xx bursts",
    Kind.ARM_429: "429 storms",
    Kind.OFFLINE: "offline flaps",
    Kind.EMULATOR: "emulator restarts",
    Kind.REDELIVERY: "re-deliveries",
}


def table(summary: Summary) -> Group:
    runs = Table(title=f"chaos · size {summary.size.name} · seed {summary.seed}")
    runs.add_column("run")
    runs.add_column("seed")
    runs.add_column("outcomes", no_wrap=True)
    for kind in KINDS:
        runs.add_column(SHORT_NAMES[kind], justify="right")
    runs.add_column("event repeats", justify="right")
    runs.add_column("violations", justify="right")
    runs.add_column("duration", justify="right")
    for result in summary.results:
        outcomes = "→".join(o.state or "open" for o in result.outcomes)
        runs.add_row(
            str(result.run.index),
            result.run.seed,
            outcomes,
            *(str(result.done[kind]) for kind in KINDS),
            str(result.repeats),
            str(len(result.violations)),
            f"{result.seconds:.0f}s",
        )
    done = summary.done
    runs.add_row(
        f"{len(summary.results)} runs",
        str(summary.seed),
        "",
        *(str(done[kind]) for kind in KINDS),
        str(sum(r.repeats for r in summary.results)),
        str(len(summary.violations)),
        f"{summary.seconds:.0f}s",
        style="bold",
    )
    by = Counter(v.invariant for v in summary.violations)
    invariants = Table(title="invariant violations")
    invariants.add_column("invariant")
    invariants.add_column("violations", justify="right")
    for name in (*INVARIANTS, HARNESS):
        invariants.add_row(name, str(by[name]), style="red" if by[name] else None)
    return Group(runs, invariants)


def print_table(summary: Summary) -> str:
    """The tables as plain text, as `make chaos` prints them."""
    console = Console(file=io.StringIO(), width=170, record=True, force_terminal=False)
    console.print(table(summary))
    return console.export_text()
