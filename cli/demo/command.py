"""`arcwave demo [--keep-serving] [--port 7071] [--state DIR]`: the state folder, signals,
the order of the steps and the exit code."""

import argparse
import shutil
import signal
import tempfile
import time
from pathlib import Path
from types import FrameType

from rich.console import Console

from cli.demo import summary
from cli.demo.errors import DemoError, Interrupted
from cli.demo.scenario import (
    BAD_COMMIT,
    BASE_COMMIT,
    branch_head,
    ensure_canary_fails,
    register_track,
    roll,
)
from cli.demo.stack import Stack, local_stack
from cli.demo.trace import rollout_trace
from cli.demo.verdict import Verdict, judge, judge_trace

EXIT_INVALID = 2
MARKER = ".arcwave-demo"
"""Marks a state folder as the demo's own, so a later run may clear it."""
SERVE_POLL_SECONDS = 0.5


def run_demo(args: argparse.Namespace, out: Console) -> int:
    """0 when the good commit succeeded and the bad one was rolled back; 1 otherwise; 2 for
    a `--state` folder the demo may not use."""
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
        telemetry = getattr(args, "telemetry", None)
        with local_stack(state, args.port, out, telemetry) as stack:
            verdict = _scenario(stack, out, started, state if telemetry else None)
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
        if temporary and not getattr(args, "telemetry", None):
            shutil.rmtree(state, ignore_errors=True)  # kept when it holds the printed telemetry
        return 0
    out.print(f"[bold red]demo failed:[/] {'; '.join(problems)}", soft_wrap=True)
    if (state / "logs").exists():
        out.print(f"logs kept in {state / 'logs'}")
    elif temporary:
        shutil.rmtree(state, ignore_errors=True)
    return 1


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


def _scenario(stack: Stack, out: Console, started: float, traced: Path | None) -> Verdict:
    """Both rollouts, then the verdict; `traced`: the state folder, when the app's telemetry
    goes to the console (devhost's log), whose trace of the first rollout is checked too."""
    spec = register_track(stack, out)
    head = branch_head(stack, spec)
    ensure_canary_fails(stack, out)
    good = roll(stack, out, spec, "1 · good", head, BASE_COMMIT)
    bad = roll(stack, out, spec, "2 · bad", BAD_COMMIT, head)
    out.print()
    verdict = judge(stack, good, bad, head)
    if traced is not None:
        log = traced / "logs" / "devhost.log"
        judge_trace(verdict, rollout_trace(log, good.rollout_id), log)
    summary.summary(out, [good, bad])
    summary.verdict_lines(out, verdict)
    summary.api_help(out, stack)
    if verdict.passed:
        summary.passed(out, time.monotonic() - started)
    return verdict


def _serve(stack: Stack, out: Console) -> None:
    out.print()
    out.print("[bold]serving[/] until Ctrl-C (see docs/local-stack.md for what to try)")
    while (stopped := stack.stopped()) is None:
        time.sleep(SERVE_POLL_SECONDS)
    raise DemoError(stopped)
