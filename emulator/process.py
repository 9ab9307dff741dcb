"""`EmulatorProcess`: ``python -m emulator`` as a child process.

For callers that should not share a GIL with the emulator (the benchmarks) or that show the
emulator's output apart from their own (`arcwave demo`)::

    with EmulatorProcess("scenarios/demo.yaml", log=Path("emulator.log")) as emulator:
        emulator.control.branches()

The child's output goes to ``log`` (a file in a temporary folder by default); it is ready once
it prints the ready line. ``stop()`` sends SIGTERM, then SIGKILL after ``STOP_TIMEOUT`` s.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Self

from emulator.harness import Harness, wait_until
from emulator.ready import READY_LINE
from emulator.tls import CERT_FILE

ROOT = Path(__file__).resolve().parents[1]
READY_POLL_SECONDS = 0.05
STOP_TIMEOUT = 20.0
TAIL_LINES = 15
PR_SET_PDEATHSIG = 1
EXITED_MSG = "emulator exited with code {code}:\n{tail}"
NOT_READY_MSG = "emulator was not ready after {seconds:.0f}s:\n{tail}"


class EmulatorStartError(RuntimeError):
    """The child exited or never printed the ready line; the message ends with its output."""


class EmulatorProcess(Harness):
    """``python -m emulator`` for a scenario file, on a free port unless ``port`` says."""

    def __init__(
        self,
        scenario: str | Path,
        *,
        tls_dir: Path | None = None,
        state: Path | None = None,
        log: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        start_timeout: float = 30.0,
        die_with_parent: bool = False,
    ) -> None:
        """``die_with_parent``: the child gets SIGTERM when this process dies, however it
        dies (Linux only; it runs code in the child before exec, so use it from a parent that
        runs no other threads)."""
        super().__init__()
        self.scenario = Path(scenario).absolute()
        self.tls_dir = (tls_dir or self.scratch_dir() / "tls").absolute()
        self.state = state.absolute() if state is not None else None
        self.log_path = (log or self.scratch_dir() / "emulator.log").absolute()
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self.die_with_parent = die_with_parent
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._endpoint = ""

    @property
    def endpoint(self) -> str:
        if not self._endpoint:
            raise RuntimeError("emulator is not running")
        return self._endpoint

    @property
    def cert_path(self) -> Path:
        return self.tls_dir / CERT_FILE

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The child's exit code once it has exited, else None."""
        return self._process.poll() if self._process is not None else None

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "emulator", "--scenario", str(self.scenario)]
        argv += ["--host", self.host, "--port", str(self.port), "--tls-dir", str(self.tls_dir)]
        if self.state is not None:
            argv += ["--state", str(self.state)]
        return argv

    def output(self) -> str:
        """What the child printed since it was last started."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def start(self) -> Self:
        if self.alive:
            raise RuntimeError("emulator is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        linux = sys.platform.startswith("linux")
        with self.log_path.open("ab") as sink:
            self._log_offset = sink.seek(0, os.SEEK_END)
            self._process = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=_die_with_parent if self.die_with_parent and linux else None,
            )
        try:
            self._endpoint = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> str:
        try:
            return wait_until(self._ready_endpoint, self.start_timeout, READY_POLL_SECONDS)
        except TimeoutError:
            message = NOT_READY_MSG.format(seconds=self.start_timeout, tail=self.tail())
            raise EmulatorStartError(message) from None

    def _ready_endpoint(self) -> str | None:
        found = READY_LINE.search(self.output())
        if found is not None:
            return found.group(1)
        if not self.alive:
            raise EmulatorStartError(EXITED_MSG.format(code=self.returncode, tail=self.tail()))
        return None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when the child is still there ``STOP_TIMEOUT`` s later."""
        self.close_control()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
            if process.poll() is None:
                process.kill()
                process.wait()
        self._endpoint = ""
        self.release_scratch()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
