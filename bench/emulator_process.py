"""Run ``python -m emulator`` as a child process for the benchmarks (no GIL shared with them)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "emulator ready on "


@dataclass(frozen=True)
class Running:
    endpoint: str
    cert_path: Path


@contextmanager
def emulator_process(scenario: Path) -> Iterator[Running]:
    with tempfile.TemporaryDirectory(prefix="arcwave-bench-") as tmp:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator",
                "--scenario",
                str(scenario),
                "--port",
                "0",
                "--tls-dir",
                tmp,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        try:
            endpoint = ""
            for line in process.stdout:
                if line.startswith(READY):
                    endpoint = line[len(READY) :].strip()
                    break
            if not endpoint:
                raise RuntimeError("emulator exited before it was ready")
            yield Running(endpoint, Path(tmp) / "cert.pem")
        finally:
            process.terminate()
            process.wait(timeout=30)
            process.stdout.close()
