"""Terminal views of the app's answers (`-o table`): tracks, rollouts, timelines, the fleet,
a spec diff, the live plan and the contexts. Built from the JSON as docs/api.md shapes it;
a field the app leaves out shows as `-`."""

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.diff import Change
from cli.eta_render import eta_of, render_eta
from cli.live import rollout_body, state_text, style_of
from cli.render import render_plan, render_spec
from shared.cluster import Cluster
from shared.plan import Plan
from shared.problems import InvalidInput
from shared.revision import short_revision
from shared.trackspec import TrackSpec, validate_track_spec

PLACEMENT_FIELDS = ("id", "name", "site", "offline", "reason")


def _rev(value: Any) -> str:
    return short_revision(str(value)) if value else "-"


def _text(value: Any) -> Text:
    """The app's text as it is: never read as rich markup."""
    return Text("-" if value in (None, "") else str(value))


def _time(value: Any) -> str:
    """`2026-11-26 12:00:00Z` from the app's fixed-width UTC time."""
    text = str(value or "")
    return f"{text[:10]} {text[11:19]}Z" if len(text) >= 19 else str(value or "-")


def tracks_table(out: Console, tracks: Iterable[dict[str, Any]]) -> None:
    table = Table()
    for column in ("track", "source", "configuration", "current", "last good", "active rollout"):
        table.add_column(column, no_wrap=column in ("track", "current", "last good"))
    table.add_column("updated", no_wrap=True)
    count = 0
    for track in tracks:
        count += 1
        spec = track.get("spec") or {}
        source = spec.get("source") or {}
        where = f"{source.get('url', '-')}" + (
            f" @ {source['branch']}" if source.get("branch") else ""
        )
        table.add_row(
            Text(str(track.get("name")), style="bold"),
            Text(where),
            _text((spec.get("configuration") or {}).get("name")),
            _rev(track.get("currentRevision")),
            _rev(track.get("lastGoodRevision")),
            _text(track.get("activeRolloutId")),
            _time(track.get("updatedAt")),
        )
    if count:
        out.print(table)
    else:
        out.print("no tracks yet: arcwave tracks apply -f TRACK.yaml")


def track_view(out: Console, track: dict[str, Any]) -> None:
    """A track: its revisions and active rollout, then its spec as `arcwave validate` shows it."""
    name = str(track.get("name"))
    out.print(
        Text.assemble(
            ("track ", "dim"),
            (name, "bold"),
            ("  current ", "dim"),
            _rev(track.get("currentRevision")),
            ("  last good ", "dim"),
            _rev(track.get("lastGoodRevision")),
            ("  active rollout ", "dim"),
            _text(track.get("activeRolloutId")),
            ("  updated ", "dim"),
            _time(track.get("updatedAt")),
        )
    )
    spec = spec_of(track)
    if spec is not None:
        render_spec(out, spec, source=f"track {name} (spec version {track.get('specVersion')})")
    else:
        out.print("[yellow]this version of arcwave cannot read the stored spec; -o yaml shows it")


def spec_of(track: dict[str, Any]) -> TrackSpec | None:
    try:
        return validate_track_spec(track.get("spec"))
    except InvalidInput:
        return None


def rollouts_table(out: Console, rollouts: Iterable[dict[str, Any]]) -> None:
    table = Table()
    table.add_column("rollout", no_wrap=True)
    table.add_column("track", no_wrap=True)
    table.add_column("revision", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("updated", no_wrap=True)
    count = 0
    for rollout in rollouts:
        count += 1
        table.add_row(
            _text(rollout.get("id")),
            _text(rollout.get("track")),
            _rev(rollout.get("revision")),
            state_text(str(rollout.get("state"))),
            _time(rollout.get("createdAt")),
            _time(rollout.get("updatedAt")),
        )
    if count:
        out.print(table)
    else:
        out.print("no rollouts")


def rollout_view(out: Console, detail: dict[str, Any]) -> None:
    """A rollout's state, revisions and trigger, then one row per wave, as `watch` shows it."""
    state = str(detail.get("state"))
    trigger = detail.get("trigger") or {}
    head = Text.assemble(
        ("state ", "dim"),
        state_text(state),
        (f" ({detail.get('reason') or '-'})", "dim"),
        ("  revision ", "dim"),
        (_rev(detail.get("revision")), "bold"),
        ("  previous ", "dim"),
        _rev(detail.get("previousRevision")),
        ("  by ", "dim"),
        f"{trigger.get('kind', '-')} ({trigger.get('actor', '-')})",
    )
    times = Text.assemble(
        ("created ", "dim"),
        _time(detail.get("createdAt")),
        ("  updated ", "dim"),
        _time(detail.get("updatedAt")),
        ("  spec version ", "dim"),
        _text(detail.get("specVersion")),
    )
    out.print(
        Panel(
            Group(head, times, *rollout_body(detail)),
            title=f"[bold]{detail.get('track')}[/] · rollout {detail.get('id')}",
            title_align="left",
            border_style=style_of(state) or "white",
        )
    )


def timeline_table(out: Console, answer: dict[str, Any]) -> None:
    table = Table(title=f"timeline of {answer.get('rolloutId')}", title_justify="left")
    table.add_column("time", no_wrap=True)
    table.add_column("actor", no_wrap=True)
    table.add_column("reason", no_wrap=True)
    table.add_column("message", overflow="fold")
    for entry in answer.get("timeline") or []:
        reason = str(entry.get("reason") or "")
        table.add_row(
            _time(entry.get("time")),
            _text(entry.get("actor")),
            Text(reason, style="bold"),
            _text(entry.get("message")),
        )
    out.print(table)


def fleet_table(out: Console, answer: dict[str, Any]) -> None:
    table = Table(title=f"fleet of track {answer.get('track')}", title_justify="left")
    for column in ("cluster", "wave", "state", "desired", "applied", "last good", "reason"):
        table.add_column(column, no_wrap=column != "reason")
    table.add_column("updated", no_wrap=True)
    for cluster in answer.get("clusters") or []:
        table.add_row(
            _text(cluster.get("name")),
            _text(cluster.get("wave")),
            state_text(str(cluster.get("state"))),
            _rev(cluster.get("desiredRevision")),
            _rev(cluster.get("appliedRevision")),
            _rev(cluster.get("lastGoodRevision")),
            _text(cluster.get("reason")),
            _time(cluster.get("updatedAt")),
        )
    out.print(table)


def _value(value: Any) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text(str(value).lower())
    if isinstance(value, list | dict):
        return Text(json.dumps(value, ensure_ascii=False))
    return Text(str(value))


_CHANGE_STYLES = {"added": "green", "removed": "red", "changed": "yellow"}


def diff_view(
    out: Console, name: str, exists: bool, found: list[Change], recreated: list[Change]
) -> None:
    if not exists:
        out.print(f"track [bold]{name}[/] does not exist on the app: applying the file creates it")
    if not found:
        out.print(f"track [bold]{name}[/]: no differences")
        return
    table = Table(title=f"track {name}: the file against the app", title_justify="left")
    table.add_column("field", no_wrap=True)
    table.add_column("change", no_wrap=True)
    table.add_column("on the app", overflow="fold")
    table.add_column("in the file", overflow="fold")
    table.add_column("note", overflow="fold")
    for change in found:
        note = Text("create-only", style="bold red") if change.create_only else Text("")
        style = _CHANGE_STYLES.get(change.change, "")
        table.add_row(
            change.path,
            Text(change.change, style=style),
            _value(change.before),
            _value(change.after),
            note,
        )
    out.print(table)
    if recreated:
        fields = " and ".join(c.path for c in recreated)
        out.print(
            Text.assemble(
                ("create-only: ", "bold red"),
                f"{fields} can only be set when Azure creates the configuration. Applying "
                "this re-creates it on every cluster (delete, then create, inside each "
                "wave's window) and needs `arcwave tracks apply --recreate` while it exists "
                "on clusters; or give the configuration a new name.",
            )
        )


def plan_view(out: Console, answer: dict[str, Any], spec: TrackSpec) -> None:
    """The live plan, drawn as the offline `arcwave plan` draws it."""
    clusters: list[Cluster] = []
    waves = []
    for wave in answer.get("waves") or []:
        placements = [
            {k: c[k] for k in PLACEMENT_FIELDS if k in c} for c in wave.get("clusters") or []
        ]
        clusters.extend(Cluster(id=str(c["id"]), name=str(c["name"])) for c in placements)
        waves.append(
            {
                "name": wave.get("name"),
                "clusters": placements,
                "maxInFlight": wave.get("maxInFlight") or 1,
                "maxPerSite": wave.get("maxPerSite"),
                "rounds": wave.get("rounds") or [],
            }
        )
    left_out = [str(e.get("id")) for e in answer.get("excluded") or []]
    left_out += [str(i) for i in answer.get("unassigned") or []]
    clusters.extend(Cluster(id=i, name=i.rsplit("/", 1)[-1] or i) for i in left_out)
    plan = Plan.model_validate(
        {
            "track": answer.get("track"),
            "waves": waves,
            "excluded": answer.get("excluded") or [],
            "unassigned": answer.get("unassigned") or [],
        }
    )
    revision = answer.get("revision")
    out.print(f"revision [bold]{_rev(revision)}[/]" + ("" if revision else " (none yet)"))
    render_plan(out, plan, spec, clusters)
    eta = eta_of(answer)
    if eta is not None:
        render_eta(out, eta)


def contexts_table(out: Console, listing: dict[str, Any]) -> None:
    contexts = listing.get("contexts") or []
    if not contexts:
        out.print("no contexts yet: arcwave login --url URL --key KEY")
        return
    table = Table()
    table.add_column("", no_wrap=True)
    table.add_column("context", no_wrap=True)
    table.add_column("url", overflow="fold")
    table.add_column("auth", no_wrap=True)
    table.add_column("scope", overflow="fold")
    for context in contexts:
        auth = " + ".join(context["auth"]) or "none"
        if context.get("deviceCode"):
            auth += " (device code)"
        table.add_row(
            "*" if context.get("current") else "",
            Text(str(context["name"]), style="bold" if context.get("current") else ""),
            Text(str(context["url"])),
            auth,
            _text(context.get("scope")),
        )
    out.print(table)
