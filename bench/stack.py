"""The local stack the benches run against: the emulator in its own process (no GIL shared
with the bench), devhost serving the app on a SQLite store, and what benches read off them.

    with local_stack(scenario, env={"ARCWAVE_WEBHOOK_SECRET": SECRET}) as stack:
        stack.api("PUT", "tracks/bench", TRACK)
        ...
        stack.writes()          # the emulator's write log
        stack.history_counts()  # devhost's history rows per orchestration instance
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devhost.testing import DevHost
from emulator.control_client import ControlClient
from emulator.process import EmulatorProcess
from shared.settings import StoreSettings
from shared.store import Records, open_store

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 180.0
"""Loading a 10,000-cluster scenario takes a while on a small machine."""
FLEET_5000 = ROOT / "scenarios" / "fleet-5000.yaml"


def fleet_5000(scale: float = 1.0) -> dict[str, Any]:
    """scenarios/fleet-5000.yaml, each generated group scaled by `scale` (at least one
    cluster each; the names and the offline stores stay)."""
    data: dict[str, Any] = yaml.safe_load(FLEET_5000.read_text())
    for entry in data["clusters"]:
        if "generate" in entry:
            entry["generate"]["count"] = max(1, round(entry["generate"]["count"] * scale))
    return data


def scenario_file(scenario: Mapping[str, Any], folder: Path, name: str = "fleet.yaml") -> Path:
    """`scenario` written to `folder/name`, for a process to load."""
    path = folder / name
    path.write_text(yaml.safe_dump(dict(scenario)))
    return path


def emulator_process(scenario: Path) -> EmulatorProcess:
    """``with emulator_process(path) as running:`` gives ``running.endpoint`` and
    ``running.cert_path``; the TLS files and the log live in a temporary folder."""
    return EmulatorProcess(scenario, start_timeout=START_TIMEOUT)


@dataclass
class Stack:
    """A running emulator and devhost, and the folder they keep their state in."""

    folder: Path
    emulator: EmulatorProcess
    host: DevHost
    control: ControlClient
    store_path: Path

    @property
    def key(self) -> dict[str, str]:
        return {"x-functions-key": self.host.function_key}

    def records(self) -> Records:
        """The app's store, opened from the bench's side."""
        return Records(open_store(StoreSettings(kind="sqlite", sqlite_path=self.store_path)))

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """`/api/{path}` with the function key."""
        return self.host.request(method, f"/api/{path}", body, headers=self.key)

    def durable(self, method: str, path: str, body: Any = None) -> Any:
        """The Durable HTTP API (`/runtime/webhooks/durabletask/{path}`); fails unless it
        answers 200 or 202."""
        code, answer = self.host.request(
            method, f"/runtime/webhooks/durabletask/{path}?code={self.host.function_key}", body
        )
        if code not in (200, 202):
            raise RuntimeError(f"{method} {path} answered {code}: {answer}")
        return answer

    def writes(self) -> list[dict[str, Any]]:
        """Every write the emulator answered, with its status and time."""
        return self.control.writes()

    def history_counts(self) -> dict[str, int]:
        """Raw history rows per orchestration instance in devhost's state (every event,
        markers too)."""
        return history_counts(self.host.state_dir)

    def peak_rss_mb(self) -> float:
        """devhost's peak resident memory so far, the app included (it runs in-process)."""
        assert self.host.pid is not None
        return peak_rss_mb(self.host.pid)


@contextmanager
def local_stack(
    scenario: Mapping[str, Any] | Path,
    *,
    env: Mapping[str, str] | None = None,
    prefix: str = "arcwave-bench-",
    log_level: str | None = "WARNING",
) -> Iterator[Stack]:
    """The emulator for `scenario` (a mapping, written to a file, or a scenario file) and
    devhost serving the app against it, in a temporary folder removed on the way out. `env`
    adds to (or overrides) the app settings pointing the app at the emulator."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp_name:
        folder = Path(tmp_name)
        path = scenario if isinstance(scenario, Path) else scenario_file(scenario, folder)
        store_path = folder / "arcwave.db"
        with emulator_process(path) as emulator:
            settings = {
                "ARCWAVE_TASK_HUB": "bench",
                "ARCWAVE_STORE": f"sqlite:///{store_path}",
                "ARCWAVE_ARM_ENDPOINT": emulator.endpoint,
                "ARCWAVE_ARM_CA_BUNDLE": str(emulator.cert_path),
                "ARCWAVE_CREDENTIAL": "emulator",
                **(env or {}),
            }
            control = ControlClient(emulator.endpoint, emulator.cert_path)
            try:
                with DevHost(
                    ROOT, state_dir=folder / "devhost", env=settings, log_level=log_level
                ) as host:
                    yield Stack(folder, emulator, host, control, store_path)
            finally:
                control.close()


def history_counts(state_dir: Path) -> dict[str, int]:
    """Raw history rows per instance in devhost's SQLite state."""
    counts: Counter[str] = Counter()
    for db in state_dir.rglob("*.sqlite3"):
        with sqlite3.connect(db) as connection:
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            if "history" in tables:
                query = "SELECT instance_id, count(*) FROM history GROUP BY instance_id"
                counts.update(dict(connection.execute(query).fetchall()))
    return dict(counts)


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
