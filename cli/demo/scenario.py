"""What the demo does on the stack: register the track, make sure the bad commit fails on the
canary, then push a good and a bad commit as GitHub would and follow each rollout live."""

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console

from cli.demo.errors import DemoError
from cli.demo.stack import ROOT, Stack
from cli.live import RolloutView, follow
from emulator.control_client import ControlClient
from shared.revision import short_revision
from shared.trackspec import TrackSpec, load_track_spec

TRACK = ROOT / "scenarios" / "demo" / "track.yaml"
TRACK_NAME = "baseline"

BAD_COMMIT = "bad0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
"""Fails on every cluster: scenarios/demo.yaml has a failure rule for commits `bad0…`."""

BASE_COMMIT = hashlib.sha1(b"arcwave-demo-base", usedforsecurity=False).hexdigest()
"""The `before` of the first push: a commit the fleet never ran."""

ROLLOUT_TIMEOUT = 150.0
POLL_SECONDS = 0.5
CANARY_RULE_SCOPES: tuple[Any, ...] = ("*", {"ring": "canary"})
"""The `clusters` of a failure rule that covers the canary ring."""


@dataclass
class Outcome:
    """One rollout of the demo as it ended."""

    label: str
    short: str
    commit: str
    rollout_id: str
    detail: dict[str, Any]

    @property
    def state(self) -> str:
        return str(self.detail.get("state"))

    @property
    def seconds(self) -> float:
        try:
            created = datetime.fromisoformat(str(self.detail["createdAt"]))
            updated = datetime.fromisoformat(str(self.detail["updatedAt"]))
        except (KeyError, ValueError):
            return 0.0
        return (updated - created).total_seconds()


def register_track(stack: Stack, out: Console) -> TrackSpec:
    """PUT the demo track as its YAML file; the spec it holds."""
    spec = load_track_spec(TRACK.read_text(encoding="utf-8"))
    headers = {"x-functions-key": stack.devhost.function_key, "Content-Type": "application/yaml"}
    code, answer = stack.api("PUT", f"tracks/{TRACK_NAME}", TRACK.read_bytes(), headers)
    if code not in (200, 201):
        raise DemoError(f"PUT /api/tracks/{TRACK_NAME} answered {code}: {answer}")
    out.print(f"[green]✓[/] track {TRACK_NAME} registered from {TRACK.relative_to(ROOT)} ({code})")
    return spec


def branch_head(stack: Stack, spec: TrackSpec) -> str:
    """The emulator's head of the track's branch: the good commit."""
    heads = stack.control("GET /_emulator/branches", ControlClient.branches)
    head = heads.get(spec.source.branch or "") or ""
    if not head:
        raise DemoError(f"the emulator has no head for branch {spec.source.branch}: {heads}")
    return head


def ensure_canary_fails(stack: Stack, out: Console) -> None:
    """Make sure the emulator fails the bad commit on the canary ring, whatever the scenario."""
    faults = stack.control("GET /_emulator/faults", ControlClient.faults)
    failures: list[dict[str, Any]] = list(faults.get("failures") or [])
    for rule in failures:
        prefix = str(rule.get("commit") or "").lower()
        if prefix and BAD_COMMIT.startswith(prefix) and rule.get("clusters") in CANARY_RULE_SCOPES:
            return
    rule = {"commit": BAD_COMMIT[:4], "clusters": {"ring": "canary"}, "reason": "HealthCheckFailed"}
    stack.control(
        f"making {short_revision(BAD_COMMIT)} fail on the canary: PATCH /_emulator/faults",
        lambda control: control.patch_faults(failures=[*failures, rule]),
    )
    out.print(f"[green]✓[/] emulator: commits {BAD_COMMIT[:4]}… now fail on ring canary")


def github_push(spec: TrackSpec, commit: str, previous: str) -> dict[str, Any]:
    """A push to the track's repository and branch, shaped as GitHub sends it."""
    web = spec.source.url.removesuffix(".git")
    owner_repo = web.split("://", 1)[-1].split("/", 1)[-1]
    host = web.split("://", 1)[-1].split("/", 1)[0]
    changed = {"id": commit, "message": "demo change", "added": [], "removed": []}
    changed["modified"] = ["apps/web/deployment.yaml"]
    return {
        "ref": f"refs/heads/{spec.source.branch}",
        "before": previous,
        "after": commit,
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": f"{web}/compare/{previous[:12]}...{commit[:12]}",
        "commits": [changed],
        "head_commit": changed,
        "repository": {
            "full_name": owner_repo,
            "clone_url": f"{web}.git",
            "ssh_url": f"git@{host}:{owner_repo}.git",
            "html_url": web,
        },
        "pusher": {"name": "arcwave-demo"},
        "sender": {"login": "arcwave-demo"},
    }


def send_push(stack: Stack, spec: TrackSpec, commit: str, previous: str) -> str:
    """POST a signed GitHub push; the id of the rollout it started."""
    body = json.dumps(github_push(spec, commit, previous)).encode()
    digest = hmac.new(stack.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
    }
    code, answer = stack.api("POST", "hooks/github", body, headers)
    tracks = answer.get("tracks") if isinstance(answer, dict) else None
    if code != 202 or not tracks or not tracks[0].get("rolloutId"):
        raise DemoError(f"the push of {short_revision(commit)} was not taken: {code} {answer}")
    return str(tracks[0]["rolloutId"])


def roll(
    stack: Stack, out: Console, spec: TrackSpec, short: str, commit: str, prev: str
) -> Outcome:
    """Push `commit` and show its rollout live until it ends."""
    label = f"rollout {short}"
    out.print()
    out.rule(f"[bold]{label}[/]: push {short_revision(commit)} to {spec.source.branch}")
    rollout_id = send_push(stack, spec, commit, prev)
    out.print(f"POST /api/hooks/github → 202, rollout [bold]{rollout_id}[/]")
    view = RolloutView(title=label, rollout_id=rollout_id)
    try:
        detail = follow(
            out,
            view,
            lambda: stack.api_json("GET", f"rollouts/{rollout_id}"),
            lambda: stack.api_json("GET", f"rollouts/{rollout_id}/timeline"),
            timeout=ROLLOUT_TIMEOUT,
            interval=POLL_SECONDS,
        )
    except TimeoutError as error:
        raise DemoError(str(error)) from None
    return Outcome(label, short, commit, rollout_id, detail)
