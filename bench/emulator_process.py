"""The emulator as a child process for the benchmarks, so it shares no GIL with them."""

from __future__ import annotations

from pathlib import Path

from emulator.process import EmulatorProcess

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 180.0
"""Loading a 5,000-cluster scenario takes a while on a small machine."""


def emulator_process(scenario: Path) -> EmulatorProcess:
    """``with emulator_process(path) as running:`` gives ``running.endpoint`` and
    ``running.cert_path``; the TLS files and the log live in a temporary folder."""
    return EmulatorProcess(scenario, start_timeout=START_TIMEOUT)
