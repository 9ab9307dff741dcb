"""One chaos run's world: the emulator as a child process with persisted state, devhost running
the real function app, a local Event Grid topic, and the SQLite store, all in one folder.

Both processes can be taken away and brought back on the same state: `kill_devhost()` is a
SIGKILL (a crash at an arbitrary moment) followed by a restart on the same port, state folder
and settings; `restart_emulator()` is a graceful stop (the emulator saves its fleet, faults and
write log) and a start on the same port, certificate and state file. Calls through `api()` and
`control()` ride out the moments either is away.
"""

from __future__ import annotations

import http.client
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
import yaml

from devhost.testing import DevHost
from emulator.control_client import ControlClient
from emulator.process import EmulatorProcess
from shared.settings import StoreSettings
from shared.store import Records, open_store
from tests.support import Topic

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0
"""devhost and the emulator start in a few seconds; a loaded 2-core machine needs more."""
CALL_TIMEOUT = 120.0
"""How long `control()` and `api_until()` keep trying while a process is away."""
WEBHOOK_SECRET = "chaos-webhook-secret"
FLUX_KEY = "chaos-flux-key"
TOPIC_KEY = "chaos-topic-key"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChaosStack:
    """The stack of one run, in `folder` (kept after a failed run, for its logs)."""

    def __init__(self, folder: Path, scenario: dict[str, Any], retry: dict[str, str]) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.function_key = secrets.token_urlsafe(18)
        self.devhost_port = free_port()
        self.topic = Topic()
        flux_url = f"http://127.0.0.1:{self.devhost_port}/api/flux/events?code={self.function_key}"
        scenario = {**scenario, "events": {"flux": {"url": flux_url, "hmacKey": FLUX_KEY}}}
        self.scenario_file = folder / "scenario.yaml"
        self.scenario_file.write_text(yaml.safe_dump(scenario, sort_keys=False))
        self.emulator = EmulatorProcess(
            self.scenario_file,
            tls_dir=folder / "tls",
            state=folder / "emulator-state.json",
            log=folder / "emulator.log",
            start_timeout=START_TIMEOUT,
        )
        self.db = folder / "arcwave.db"
        self.retry = retry
        self.devhost: DevHost | None = None
        self._control: ControlClient | None = None
        self.records = Records(open_store(StoreSettings(kind="sqlite", sqlite_path=self.db)))

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.emulator.start()
        # A restart must come back where devhost was told ARM is.
        self.emulator.port = int(urlparse(self.emulator.endpoint).port or 0)
        self.endpoint = self.emulator.endpoint
        self._control = ControlClient(self.endpoint, self.emulator.cert_path)
        env = {
            "DEVHOST_FUNCTION_KEY": self.function_key,
            "ARCWAVE_TASK_HUB": "chaos",
            "ARCWAVE_STORE": f"sqlite:///{self.db}",
            "ARCWAVE_ARM_ENDPOINT": self.endpoint,
            "ARCWAVE_ARM_CA_BUNDLE": str(self.emulator.cert_path),
            "ARCWAVE_CREDENTIAL": "emulator",
            "ARCWAVE_KEYVAULT_URL": self.endpoint,
            "ARCWAVE_LOG_ANALYTICS_ENDPOINT": f"{self.endpoint}/v1",
            "ARCWAVE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ARCWAVE_FLUX_HMAC_KEY": FLUX_KEY,
            "ARCWAVE_EVENTGRID_ENDPOINT": self.topic.url,
            "ARCWAVE_EVENTGRID_KEY": TOPIC_KEY,
            "ARCWAVE_POLL_SECONDS": "0.5",
            **self.retry,
        }
        self.devhost = DevHost(
            ROOT,
            state_dir=self.folder / "devhost",
            port=self.devhost_port,
            env=env,
            start_timeout=START_TIMEOUT,
            log_path=self.folder / "devhost.log",
            keep_out=("ARCWAVE_", "DEVHOST_"),
        )
        self.devhost.start()

    def close(self) -> None:
        if self.devhost is not None:
            self.devhost.stop()
        if self._control is not None:
            self._control.close()
        self.emulator.stop()
        self.topic.close()

    def __enter__(self) -> ChaosStack:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # the faults that take a process away -----------------------------------------------------
    def kill_devhost(self, down_seconds: float) -> None:
        """SIGKILL devhost, leave it dead for `down_seconds`, start it on the same state."""
        host = self.host
        host.kill()
        time.sleep(down_seconds)
        host.start()

    def restart_emulator(self, down_seconds: float) -> None:
        """Stop the emulator (it saves its state), wait, start it on the same port and state."""
        if self._control is not None:
            self._control.close()
        self.emulator.stop()
        time.sleep(down_seconds)
        self.emulator.start()
        self._control = ControlClient(self.endpoint, self.emulator.cert_path)

    @property
    def host(self) -> DevHost:
        assert self.devhost is not None, "the stack is not started"
        return self.devhost

    # calls that ride out a process being away -------------------------------------------------
    def control(self, call: Callable[[ControlClient], T], timeout: float = CALL_TIMEOUT) -> T:
        """`call(control client)`, retried while the emulator is away."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                assert self._control is not None
                return call(self._control)
            except (requests.ConnectionError, requests.Timeout, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One call to the operator API; (0, None) while devhost is away."""
        try:
            return self.host.request(
                method, f"/api/{path}", body, headers={"x-functions-key": self.function_key}
            )
        except (OSError, http.client.HTTPException):
            return 0, None

    def api_ok(self, method: str, path: str, body: Any = None) -> Any:
        """The answer of an API call that must succeed, retried while devhost is away."""
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            code, answer = self.api(method, path, body)
            if 200 <= code < 300:
                return answer
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} /api/{path} answered {code}: {answer}")
            time.sleep(0.3)

    def post_webhook(self, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """One delivery to the GitHub webhook; (0, None) when devhost is away or dies."""
        try:
            return self.host.request("POST", "/api/hooks/github", raw=body, headers=headers)
        except (OSError, http.client.HTTPException):
            return 0, None
