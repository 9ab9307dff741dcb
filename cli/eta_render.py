"""The ETA of a plan or a rollout in the terminal: one row per wave, then its batches."""

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shared.durations import format_duration
from shared.eta_model import Eta, WaveEta

BATCHES_SHOWN = 5
"""Batches listed per wave; the rest are counted."""


def eta_of(body: dict[str, Any]) -> Eta | None:
    """The `eta` of an API answer, when it has a readable one (an older app has none)."""
    try:
        return Eta.model_validate(body["eta"]) if body.get("eta") else None
    except ValidationError:
        return None


def render_eta(out: Console, eta: Eta) -> None:
    """When each wave starts and finishes at the earliest, and when all is done."""
    if eta.finish is None:
        out.print(Text(f"ETA from {_at(eta.as_of)}: some wave never finishes", style="bold red"))
    else:
        assert eta.duration is not None
        out.print(
            Text.assemble(
                ("ETA ", "bold"),
                f"{_at(eta.finish)} (in {format_duration(eta.duration)}, from {_at(eta.as_of)})",
            )
        )
    day = eta.as_of.date()
    table = Table(caption="times UTC, earliest", caption_justify="left")
    table.add_column("wave", no_wrap=True)
    for column in ("start", "finish", "batches", "reconcile", "soak"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("waits", overflow="fold")
    for wave in eta.waves:
        done = wave.phase == "done"
        table.add_row(
            wave.name,
            "done" if done else _short(wave.start, day),
            "done" if done else _short(wave.finish, day),
            str(len(wave.batches)),
            f"{format_duration(wave.reconcile.duration)} {_source(wave)}",
            format_duration(wave.soak) if wave.soak else "-",
            Text("; ".join([*wave.waits, *([wave.blocked] if wave.blocked else [])]) or "-"),
        )
    out.print(table)
    for wave in eta.waves:
        _batches(out, wave, day)
    out.print(
        f"[dim]{eta.note}; ARM writes paced at {eta.write_burst} burst, "
        f"{eta.writes_per_second:g}/s per subscription.[/]"
    )
    if eta.unknown_waits:
        out.print(Text("unknown waits: " + "; ".join(eta.unknown_waits), style="yellow"))


def eta_line(eta: Eta) -> Text:
    """One line for a running rollout: when it finishes at the earliest, and what may delay it."""
    if eta.finish is None:
        blocked = next((w.blocked for w in eta.waves if w.blocked), "a wave never finishes")
        return Text(f"ETA: none ({blocked})", style="red")
    assert eta.duration is not None
    waits = f"; unknown waits: {', '.join(eta.unknown_waits)}" if eta.unknown_waits else ""
    return Text.assemble(
        ("ETA ", "bold"),
        f"{_at(eta.finish)} (in {format_duration(eta.duration)}, at the earliest){waits}",
    )


def _batches(out: Console, wave: WaveEta, day: date) -> None:
    if not wave.batches:
        return
    out.print(f"[bold]{wave.name}[/] batches")
    for batch in wave.batches[:BATCHES_SHOWN]:
        paced = (
            f", writes until {_short(batch.last_write, day)}"
            if batch.last_write > batch.start
            else ""
        )
        written = " (written)" if batch.written else ""
        out.print(
            f"  batch {batch.number}{written}: {len(batch.clusters)} cluster(s), "
            f"{_short(batch.start, day)} → {_short(batch.finish, day)}{paced}"
        )
    if len(wave.batches) > BATCHES_SHOWN:
        out.print(f"  … and {len(wave.batches) - BATCHES_SHOWN} more batches")


def _source(wave: WaveEta) -> str:
    """`(history, 12 samples)`: where the reconcile time comes from."""
    source = wave.reconcile.source.value
    samples = wave.reconcile.samples
    return f"({source}, {samples} samples)" if samples else f"({source})"


def _at(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value is not None else "-"


def _short(value: datetime | None, day: date) -> str:
    """The time of day on `day` (the ETA's), else the date too."""
    if value is None:
        return "-"
    return value.strftime("%H:%M:%S" if value.date() == day else "%m-%d %H:%M:%S")
