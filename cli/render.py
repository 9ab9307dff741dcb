"""Terminal views of specs and plans (rich)."""

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shared.cluster import Cluster
from shared.durations import format_duration
from shared.plan import Plan, WavePlan
from shared.planner import describe_selector
from shared.trackspec import TrackSpec, Wave


def render_spec(out: Console, spec: TrackSpec, source: str) -> None:
    """The resolved spec: source, configuration and each wave's policy with defaults shown."""
    out.print(Text.assemble(("✓ ", "green"), (source, "bold"), " is a valid track spec"))
    out.print(f"track [bold]{spec.name}[/]: {spec.source.url} @ {spec.source.branch}")
    kustomizations = ", ".join(spec.configuration.kustomizations)
    out.print(
        f"configuration [bold]{spec.configuration.name}[/] "
        f"({spec.configuration.scope}, namespace {spec.configuration.namespace}): {kustomizations}"
    )
    out.print(
        f"progressDeadline {format_duration(spec.progress_deadline)}, onFailure "
        f"{spec.on_failure}, offline {spec.offline}, supersede {spec.supersede}"
    )
    out.print(_policy_table(spec.waves))


def render_plan(out: Console, plan: Plan, spec: TrackSpec, fleet: Sequence[Cluster]) -> None:
    """A summary line, one row per wave, then each wave's write order and window."""
    names = {c.id: c.name for c in fleet}
    out.print(
        f"Plan for track [bold]{plan.track}[/]: {plan.cluster_count} of {len(fleet)} clusters "
        f"in {len(plan.waves)} waves, {len(plan.excluded)} excluded, "
        f"{len(plan.unassigned)} unassigned, {len(plan.offline)} offline now"
    )
    table = Table(show_lines=False)
    table.add_column("wave", no_wrap=True)
    for column in ("clusters", "in flight", "per site", "rounds", "offline", "budget"):
        table.add_column(column, justify="right", no_wrap=True)
    for wave_plan, wave in zip(plan.waves, spec.waves, strict=True):
        table.add_row(
            wave_plan.name,
            str(len(wave_plan.clusters)),
            f"≤ {wave_plan.max_in_flight}" if wave_plan.clusters else "-",
            str(wave.per_site_concurrency or "-"),
            str(len(wave_plan.rounds)),
            str(sum(1 for c in wave_plan.clusters if c.offline)),
            str(wave.max_failures),
        )
    out.print(table)
    out.print(
        "[dim]A wave keeps at most 'in flight' clusters between write and verdict ('per site' "
        "of one site): the next is written as one settles, and nothing more once the wave's "
        "failure budget is spent. Rounds are the window's turns if every cluster took the "
        "same time.[/]"
    )
    for wave_plan, wave in zip(plan.waves, spec.waves, strict=True):
        _render_wave(out, wave_plan, wave, names)
    if plan.excluded:
        out.print("[bold]excluded[/]")
        for exclusion in plan.excluded:
            out.print(f"  {names.get(exclusion.id, exclusion.id)}: {exclusion.reason}")
    if plan.unassigned:
        out.print("[bold yellow]unassigned[/] (no wave takes them; add a catch-all wave)")
        for cluster_id in plan.unassigned:
            out.print(f"  {names.get(cluster_id, cluster_id)}")


def _render_wave(out: Console, wave_plan: WavePlan, wave: Wave, names: dict[str, str]) -> None:
    """The wave's rule and gates, its window, then its clusters round by round: the first
    round is written at once, each later one as clusters settle (if all took the same time)."""
    rule = wave_plan.clusters[0].reason if wave_plan.clusters else _rule(wave)
    gates = _gates(wave)
    out.print(f"[bold]{wave_plan.name}[/]: {rule}" + (f"; gates: {gates}" if gates else ""))
    if not wave_plan.clusters:
        out.print("  no clusters")
        return
    per_site = f", {wave_plan.max_per_site} per site" if wave_plan.max_per_site else ""
    out.print(f"  at most {wave_plan.max_in_flight} in flight{per_site}")
    by_id = {c.id: c for c in wave_plan.clusters}
    for number, round_ in enumerate(wave_plan.rounds, start=1):
        sites = Counter(by_id[i].site or "-" for i in round_)
        shown = ", ".join(f"{site} x{n}" for site, n in sites.items())
        members = ", ".join(
            names.get(i, i) + (" (offline)" if by_id[i].offline else "") for i in round_
        )
        out.print(f"  round {number} [dim]({shown})[/]: {members}")


def _policy_table(waves: Sequence[Wave]) -> Table:
    table = Table()
    for column in ("wave", "rule", "policy"):
        table.add_column(column)
    for wave in waves:
        table.add_row(wave.name, _rule(wave), _policy(wave))
    return table


def _rule(wave: Wave) -> str:
    if wave.selector is not None:
        return f"selector {describe_selector(wave.selector)}"
    if wave.percent is not None:
        return f"percent {wave.percent:g}"
    return "remaining clusters"


def _gates(wave: Wave) -> str:
    parts = []
    if wave.soak:
        parts.append(f"soak {format_duration(wave.soak)}")
    if wave.approval:
        within = f" ({format_duration(wave.approval_timeout)})" if wave.approval_timeout else ""
        parts.append(f"approval{within}")
    return ", ".join(parts)


def _policy(wave: Wave) -> str:
    parts = [f"maxFailures {wave.max_failures}"]
    if wave.max_concurrency is not None:
        parts.append(f"maxConcurrency {wave.max_concurrency}")
    if wave.per_site_concurrency is not None:
        parts.append(f"perSite {wave.per_site_concurrency}")
    if wave.soak:
        parts.append(f"soak {format_duration(wave.soak)}")
    if wave.approval:
        timeout = (
            f" within {format_duration(wave.approval_timeout)}" if wave.approval_timeout else ""
        )
        parts.append(f"approval{timeout}")
    return ", ".join(parts)
