"""`arcwave demo`: the whole product on the local stack, end to end.

    emulator (scenarios/demo.yaml) + devhost (the function app, SQLite store)
    PUT /api/tracks/baseline                      scenarios/demo/track.yaml
    POST /api/hooks/github  good commit           → followed live until Succeeded
    POST /api/hooks/github  bad0… commit          → canary fails, rollback → RolledBack
    summary; the bad commit must never reach a wave after the canary

Both services run as child processes of this command; their logs go to the state folder.
`--keep-serving` leaves them up until Ctrl-C so the API can be tried by hand.
"""

import argparse
import ctypes
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.live import RolloutView, follow, state_text
from shared.trackspec import TrackSpec, load_track_spec

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "demo.yaml"
TRACK = ROOT / "scenarios" / "demo" / "track.yaml"
TRACK_NAME = "baseline"

BAD_COMMIT = "bad0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
"""Fails on every cluster: scenarios/demo.yaml has a failure rule for commits `bad0…`."""

EXIT_INVALID = 2

MARKER = ".arcwave-demo"
"""Marks a state folder as the demo's own, so a later run may clear it."""

START_TIMEOUT = 45.0
ROLLOUT_TIMEOUT = 150.0
POLL_SECONDS = 0.5
WAVE_POLL_SECONDS = "0.5"

PR_SET_PDEATHSIG = 1

_EMULATOR_READY = re.compile(r"emulator ready on (https://\S+)")
_DEVHOST_READY = re.compile(r"devhost: listening on (http://\S+)")


class DemoError(Exception):
    """The demo could not go on, or ended other than expected; the message says why."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM."""


# -- child processes --------------------------------------------------------------------------


class Service:
    """One child process whose output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=str(ROOT),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> str:
        """The first group of `pattern` once the process printed it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.output())
            if found:
                return found.group(1)
            if not self.alive:
                code = self.proc.returncode if self.proc else None
                raise DemoError(f"{self.name} exited with code {code}:\n{self.tail()}")
            time.sleep(0.05)
        raise DemoError(f"{self.name} was not ready after {timeout:.0f}s:\n{self.tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL when it does not exit in `timeout` seconds."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the demo process dies, however it dies (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# -- HTTP -------------------------------------------------------------------------------------


class Http:
    """JSON over HTTP(S) to loopback services, never through a proxy from the environment."""

    def __init__(self, cafile: Path | None = None) -> None:
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if cafile is not None:
            context = ssl.create_default_context(cafile=str(cafile))
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15.0,
    ) -> tuple[int, Any]:
        data = raw
        sent = dict(headers or {})
        if data is None and body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            raise DemoError(f"{method} {url.split('?')[0]} failed: {error}") from None


def _json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


# -- the stack --------------------------------------------------------------------------------


@dataclass
class Stack:
    """The emulator and devhost, running, with clients for both."""

    state: Path
    emulator: Service
    devhost: Service
    emulator_url: str = ""
    devhost_url: str = ""
    function_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    azure: Http = field(default_factory=Http)
    local: Http = field(default_factory=Http)

    @property
    def api_url(self) -> str:
        return f"{self.devhost_url}/api"

    @property
    def cert(self) -> Path:
        return self.state / "tls" / "cert.pem"

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.local.call(
            method, f"{self.api_url}/{path}", body, headers={"x-functions-key": self.function_key}
        )

    def api_json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        code, answer = self.api(method, path, body)
        if code != 200 or not isinstance(answer, dict):
            raise DemoError(f"{method} /api/{path} answered {code}: {answer}")
        return answer

    def control(self, path: str) -> Any:
        code, answer = self.azure.call("GET", f"{self.emulator_url}/_emulator/{path}")
        if code != 200:
            raise DemoError(f"GET /_emulator/{path} answered {code}: {answer}")
        return answer

    def stop(self) -> None:
        self.devhost.stop()
        self.emulator.stop()


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCWAVE_", "DEVHOST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextmanager
def local_stack(state: Path, port: int, out: Console) -> Iterator[Stack]:
    """Start the emulator, then devhost pointed at it; stop both on the way out."""
    _check_port_free(port)
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    emulator = Service(
        "emulator",
        [
            sys.executable,
            "-m",
            "emulator",
            "--scenario",
            str(SCENARIO),
            "--port",
            "0",
            "--tls-dir",
            str(state / "tls"),
        ],
        _child_env({}),
        logs / "emulator.log",
    )
    devhost = Service("devhost", [], {}, logs / "devhost.log")
    stack = Stack(state=state, emulator=emulator, devhost=devhost)
    try:
        emulator.start()
        stack.emulator_url = emulator.wait_for(_EMULATOR_READY, START_TIMEOUT)
        stack.azure = Http(stack.cert)
        out.print(f"[green]✓[/] emulator: {stack.emulator_url} ({SCENARIO.name})")
        devhost.argv = [
            sys.executable,
            "-m",
            "devhost",
            "--app",
            str(ROOT),
            "--port",
            str(port),
            "--state",
            str(state / "devhost"),
        ]
        devhost.env = _child_env(
            {
                "DEVHOST_FUNCTION_KEY": stack.function_key,
                "ARCWAVE_TASK_HUB": "arcwave",
                "ARCWAVE_STORE": f"sqlite:///{(state / 'arcwave.db').resolve()}",
                "ARCWAVE_ARM_ENDPOINT": stack.emulator_url,
                "ARCWAVE_ARM_CA_BUNDLE": str(stack.cert.resolve()),
                "ARCWAVE_CREDENTIAL": "emulator",
                # The emulator's Key Vault: a track's source.auth secrets resolve there.
                "ARCWAVE_KEYVAULT_URL": stack.emulator_url,
                "ARCWAVE_WEBHOOK_SECRET": stack.webhook_secret,
                "ARCWAVE_FLUX_HMAC_KEY": secrets.token_urlsafe(32),
                "ARCWAVE_POLL_SECONDS": WAVE_POLL_SECONDS,
            }
        )
        devhost.start()
        stack.devhost_url = devhost.wait_for(_DEVHOST_READY, START_TIMEOUT)
        _wait_running(stack)
        out.print(f"[green]✓[/] devhost: {stack.devhost_url} (function app {ROOT.name})")
        yield stack
    finally:
        stack.stop()


def _check_port_free(port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise DemoError(
                f"port {port} is in use; stop what listens there, or pass --port 0 (any free port)"
            ) from None


def _wait_running(stack: Stack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code, body = stack.local.call("GET", f"{stack.devhost_url}/admin/host/status")
        if code == 200 and isinstance(body, dict) and body.get("state") == "Running":
            return
        if not stack.devhost.alive:
            break
        time.sleep(0.1)
    raise DemoError(f"devhost did not start serving:\n{stack.devhost.tail()}")


# -- the scenario -----------------------------------------------------------------------------


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
    code, answer = stack.local.call(
        "POST", f"{stack.api_url}/hooks/github", raw=body, headers=headers
    )
    tracks = answer.get("tracks") if isinstance(answer, dict) else None
    if code != 202 or not tracks or not tracks[0].get("rolloutId"):
        raise DemoError(f"the push of {commit[:7]} was not taken: {code} {answer}")
    return str(tracks[0]["rolloutId"])


def roll(
    stack: Stack, out: Console, spec: TrackSpec, short: str, commit: str, prev: str
) -> Outcome:
    label = f"rollout {short}"
    out.print()
    out.rule(f"[bold]{label}[/]: push {commit[:7]} to {spec.source.branch}")
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


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def judge(stack: Stack, good: Outcome, bad: Outcome, head: str) -> Verdict:
    """Succeeded, then RolledBack with the canary restored and later waves never touched."""
    verdict = Verdict()
    if good.state != "Succeeded":
        verdict.problems.append(f"the good rollout ended {good.state}, not Succeeded")
    if bad.state != "RolledBack":
        verdict.problems.append(f"the bad rollout ended {bad.state}, not RolledBack")
    waves = bad.detail.get("waves") or []
    first = waves[0] if waves else {}
    canaries = {str(c.get("name")) for c in first.get("clusters") or []}
    if first.get("state") != "RolledBack":
        verdict.problems.append(f"wave {first.get('name')} is {first.get('state')}, not RolledBack")
    writes: list[dict[str, Any]] = stack.control("writes")
    bad_writes = {str(w.get("cluster")) for w in writes if w.get("commit") == bad.commit}
    reached_later = sorted(bad_writes - canaries)
    if reached_later:
        verdict.problems.append(f"the bad commit reached later waves: {', '.join(reached_later)}")
    elif not bad_writes:
        verdict.problems.append("the bad commit was never written, not even to the canary")
    else:
        verdict.facts.append(
            f"the bad commit was written to {len(bad_writes)} cluster(s), all in wave "
            f"{first.get('name')}; no later wave received it"
        )
    last: dict[str, str | None] = {}
    for write in writes:
        last[str(write.get("cluster"))] = write.get("commit")
    clusters = {str(c.get("name")): c for c in stack.control("clusters")}
    for name in sorted(canaries):
        config = (clusters.get(name, {}).get("configurations") or {}).get(TRACK_NAME) or {}
        synced = str(config.get("sourceSyncedCommitId") or "")
        compliance = config.get("complianceState")
        if last.get(name) == head and synced.endswith(head) and compliance == "Compliant":
            verdict.facts.append(f"{name}: restored to {head[:7]}, {compliance}")
        else:
            verdict.problems.append(
                f"{name} was not restored to {head[:7]}: last write {str(last.get(name))[:7]}, "
                f"Flux at {synced or '-'} ({compliance})"
            )
    fleet = stack.api_json("GET", f"fleet?track={TRACK_NAME}")
    good_everywhere = {c.get("lastGoodRevision") for c in fleet.get("clusters") or []}
    if good_everywhere - {head, None}:
        verdict.problems.append(f"last good revisions are {sorted(map(str, good_everywhere))}")
    return verdict


def ensure_canary_fails(stack: Stack, out: Console) -> None:
    """Make sure the emulator fails the bad commit on the canary ring, whatever the scenario."""
    faults = stack.control("faults")
    failures: list[dict[str, Any]] = list(faults.get("failures") or [])
    for rule in failures:
        prefix = str(rule.get("commit") or "")
        if (
            prefix
            and BAD_COMMIT.startswith(prefix.lower())
            and rule.get("clusters")
            in (
                "*",
                {"ring": "canary"},
            )
        ):
            return
    rule = {"commit": BAD_COMMIT[:4], "clusters": {"ring": "canary"}, "reason": "HealthCheckFailed"}
    code, answer = stack.azure.call(
        "PATCH", f"{stack.emulator_url}/_emulator/faults", {"failures": [*failures, rule]}
    )
    if code != 200:
        raise DemoError(f"could not make {BAD_COMMIT[:7]} fail on the canary: {code} {answer}")
    out.print(f"[green]✓[/] emulator: commits {BAD_COMMIT[:4]}… now fail on ring canary")


# -- output -----------------------------------------------------------------------------------


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
            f"{outcome.short}\n{outcome.commit[:7]}",
            state_text(outcome.state),
            str(outcome.detail.get("reason") or "-"),
            waves,
            f"{outcome.seconds:.1f}s",
        )
    out.print(table)
    for outcome in outcomes:
        count = len(outcome.detail.get("waves") or [])
        out.print(
            f"{outcome.label} {outcome.commit[:7]}: {outcome.state} "
            f"({outcome.detail.get('reason')}), {count} waves, {outcome.seconds:.1f}s "
            f"[dim]({outcome.rollout_id})[/]",
            soft_wrap=True,
        )


def api_help(out: Console, stack: Stack) -> None:
    key = stack.function_key
    out.print()
    out.print(f"API: [bold]{stack.api_url}[/]")
    out.print(f"function key: [bold]{key}[/] (send it as the x-functions-key header)")
    out.print(f"emulator control API: {stack.emulator_url}/_emulator/ (TLS cert {stack.cert})")
    out.print(f"try: curl -s -H 'x-functions-key: {key}' {stack.api_url}/rollouts", soft_wrap=True)


# -- the command ------------------------------------------------------------------------------


def prepare_state(requested: Path | None) -> tuple[Path, bool]:
    """The state folder and whether it is a temporary one the demo may delete."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="arcwave-demo-")), True
    state = requested.resolve()
    if state.exists() and not state.is_dir():
        raise DemoError(f"--state {requested}: not a folder")
    if state.exists() and any(state.iterdir()):
        if not (state / MARKER).exists():
            raise DemoError(
                f"--state {requested}: the folder is not empty and not a demo state folder; "
                "give an empty or new folder"
            )
        shutil.rmtree(state)
    state.mkdir(parents=True, exist_ok=True)
    (state / MARKER).write_text("state of `arcwave demo`; cleared by the next run\n")
    return state, False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def run_demo(args: argparse.Namespace, out: Console) -> int:
    """`arcwave demo [--keep-serving] [--port 7071] [--state DIR]`."""
    started = time.monotonic()
    try:
        state, temporary = prepare_state(args.state)
    except DemoError as error:
        Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {error}")
        return EXIT_INVALID
    previous = signal.signal(signal.SIGTERM, _interrupt)
    verdict: Verdict | None = None
    failure = ""
    try:
        out.rule("[bold]arcwave demo[/]: wave-based GitOps rollouts on the local stack")
        out.print(f"state and logs: {state}")
        with local_stack(state, args.port, out) as stack:
            verdict = _scenario(stack, out, started)
            if args.keep_serving:
                _serve(stack, out)
    except (KeyboardInterrupt, Interrupted):
        out.print("\n[yellow]interrupted[/]: the emulator and devhost are stopped")
        if verdict is None:
            failure = "interrupted before the demo finished"
    except DemoError as error:
        failure = str(error)
    finally:
        signal.signal(signal.SIGTERM, previous)
    problems = [failure] if failure else verdict.problems if verdict else ["no verdict"]
    if not problems:
        if temporary:
            shutil.rmtree(state, ignore_errors=True)
        return 0
    out.print(f"[bold red]demo failed:[/] {'; '.join(problems)}", soft_wrap=True)
    if (state / "logs").exists():
        out.print(f"logs kept in {state / 'logs'}")
    elif temporary:
        shutil.rmtree(state, ignore_errors=True)
    return 1


def _scenario(stack: Stack, out: Console, started: float) -> Verdict:
    spec = load_track_spec(TRACK.read_text(encoding="utf-8"))
    code, answer = stack.local.call(
        "PUT",
        f"{stack.api_url}/tracks/{TRACK_NAME}",
        raw=TRACK.read_bytes(),
        headers={"x-functions-key": stack.function_key, "Content-Type": "application/yaml"},
    )
    if code not in (200, 201):
        raise DemoError(f"PUT /api/tracks/{TRACK_NAME} answered {code}: {answer}")
    out.print(f"[green]✓[/] track {TRACK_NAME} registered from {TRACK.relative_to(ROOT)} ({code})")
    heads = stack.control("branches")
    head = str(heads.get(spec.source.branch) or "")
    if not head:
        raise DemoError(f"the emulator has no head for branch {spec.source.branch}: {heads}")
    ensure_canary_fails(stack, out)
    base = hashlib.sha1(b"arcwave-demo-base", usedforsecurity=False).hexdigest()
    good = roll(stack, out, spec, "1 · good", head, base)
    bad = roll(stack, out, spec, "2 · bad", BAD_COMMIT, head)
    out.print()
    verdict = judge(stack, good, bad, head)
    summary(out, [good, bad])
    for fact in verdict.facts:
        out.print(f"[green]✓[/] {fact}")
    for problem in verdict.problems:
        out.print(f"[red]✗[/] {problem}")
    api_help(out, stack)
    took = time.monotonic() - started
    if verdict.passed:
        out.print(
            f"[bold green]demo passed[/] in {took:.1f}s: the good commit rolled out wave by "
            "wave; the bad commit failed on the canary and was rolled back"
        )
    return verdict


def _serve(stack: Stack, out: Console) -> None:
    out.print()
    out.print("[bold]serving[/] until Ctrl-C (see docs/local-stack.md for what to try)")
    while stack.emulator.alive and stack.devhost.alive:
        time.sleep(0.5)
    gone = stack.emulator if not stack.emulator.alive else stack.devhost
    raise DemoError(f"{gone.name} stopped unexpectedly:\n{gone.tail()}")
