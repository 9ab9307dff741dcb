"""The local stack the demo runs on: the emulator, then devhost pointed at it.

Both are started, watched and stopped by their own harnesses (`emulator.process` and
`devhost.testing`); this module says where their state, certificate and logs go and which
settings devhost gets, and turns what goes wrong into a `DemoError`.
"""

import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from rich.console import Console

from cli.demo.errors import DemoError
from devhost.testing import DevHost, DevHostError
from emulator.control_client import ControlClient
from emulator.process import EmulatorProcess, EmulatorStartError

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "demo.yaml"
START_TIMEOUT = 45.0
REQUEST_TIMEOUT = 15.0
WAVE_POLL_SECONDS = "0.5"
TAIL_LINES = 15
METRIC_INTERVAL_MS = "2000"
"""How often the app exports its metrics when the demo turns telemetry on."""
SHELL_PREFIXES = ("ARCWAVE_", "DEVHOST_")
"""Settings of the user's shell that never reach the function app."""
T = TypeVar("T")


@dataclass
class Stack:
    """The emulator and devhost, both serving, and the webhook secret devhost was given."""

    emulator: EmulatorProcess
    devhost: DevHost
    webhook_secret: str

    @property
    def api_url(self) -> str:
        return f"{self.devhost.base_url}/api"

    def api(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One request to `/api/{path}`: (status, parsed answer). A `bytes` body goes as it
        is. It carries the function key, as an operator's call does, unless `headers` say
        otherwise (a webhook is signed instead)."""
        sent = {"x-functions-key": self.devhost.function_key} if headers is None else headers
        raw = body if isinstance(body, bytes) else None
        try:
            return self.devhost.request(
                method,
                f"/api/{path}",
                None if raw is not None else body,
                raw=raw,
                headers=sent,
                timeout=REQUEST_TIMEOUT,
            )
        except OSError as error:
            where = f"{self.api_url}/{path}".split("?")[0]
            raise DemoError(f"{method} {where} failed: {error}") from None

    def api_json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        code, answer = self.api(method, path, body)
        if code != 200 or not isinstance(answer, dict):
            raise DemoError(f"{method} /api/{path} answered {code}: {answer}")
        return answer

    def control(self, what: str, call: Callable[[ControlClient], T]) -> T:
        """`call` on the emulator's control API; a failure is a DemoError naming `what`."""
        try:
            return call(self.emulator.control)
        except requests.HTTPError as error:
            answer = error.response.text if error.response is not None else ""
            code = error.response.status_code if error.response is not None else None
            raise DemoError(f"{what} answered {code}: {answer}") from None
        except requests.RequestException as error:
            raise DemoError(f"{what} failed: {error}") from None

    def stopped(self) -> str | None:
        """Which service is gone, with its last output; None while both serve."""
        if not self.emulator.alive:
            return f"emulator stopped unexpectedly:\n{self.emulator.tail()}"
        if not self.devhost.alive or not _answers(self.devhost):
            return f"devhost stopped unexpectedly:\n{_tail(self.devhost.output())}"
        return None


@contextmanager
def local_stack(
    state: Path, port: int, out: Console, telemetry: str | None = None
) -> Iterator[Stack]:
    """Start the emulator, then devhost pointed at it; stop both on the way out. `telemetry`:
    the app's OpenTelemetry exporter (`ARCWAVE_OTEL_EXPORTER`), e.g. `console`."""
    check_port_free(port)
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    emulator = EmulatorProcess(
        SCENARIO,
        tls_dir=state / "tls",
        log=logs / "emulator.log",
        start_timeout=START_TIMEOUT,
        die_with_parent=True,
    )
    with ExitStack() as running:
        running.callback(emulator.stop)
        try:
            emulator.start()
        except EmulatorStartError as error:
            raise DemoError(str(error)) from None
        out.print(f"[green]✓[/] emulator: {emulator.endpoint} ({SCENARIO.name})")
        webhook_secret = secrets.token_urlsafe(32)
        devhost = DevHost(
            ROOT,
            state / "devhost",
            port,
            _devhost_settings(state, emulator, webhook_secret, telemetry),
            start_timeout=START_TIMEOUT,
            log_path=logs / "devhost.log",
            keep_out=SHELL_PREFIXES,
            die_with_parent=True,
            # As App Service authentication: operators act as a user with roles (security.md).
            easy_auth=True,
        )
        running.callback(devhost.stop)
        try:
            devhost.start()
        except DevHostError as error:
            raise DemoError(_tail(str(error))) from None
        out.print(f"[green]✓[/] devhost: {devhost.base_url} (function app {ROOT.name})")
        yield Stack(emulator, devhost, webhook_secret)


def _devhost_settings(
    state: Path, emulator: EmulatorProcess, webhook: str, telemetry: str | None = None
) -> dict[str, str]:
    """The function app's settings (docs/settings.md) for the emulator at `emulator`."""
    exporter = (
        {"ARCWAVE_OTEL_EXPORTER": telemetry, "OTEL_METRIC_EXPORT_INTERVAL": METRIC_INTERVAL_MS}
        if telemetry
        else {}
    )
    return {
        **exporter,
        "DEVHOST_FUNCTION_KEY": secrets.token_urlsafe(24),
        "ARCWAVE_TASK_HUB": "arcwave",
        "ARCWAVE_STORE": f"sqlite:///{(state / 'arcwave.db').resolve()}",
        "ARCWAVE_ARM_ENDPOINT": emulator.endpoint,
        "ARCWAVE_ARM_CA_BUNDLE": str(emulator.cert_path.resolve()),
        "ARCWAVE_CREDENTIAL": "emulator",
        # The emulator's Key Vault: a track's source.auth secrets resolve there.
        "ARCWAVE_KEYVAULT_URL": emulator.vault_url,
        # The emulator's Log Analytics: metric gates' KQL queries run there.
        "ARCWAVE_LOG_ANALYTICS_ENDPOINT": emulator.log_analytics_endpoint,
        "ARCWAVE_WEBHOOK_SECRET": webhook,
        "ARCWAVE_FLUX_HMAC_KEY": secrets.token_urlsafe(32),
        "ARCWAVE_POLL_SECONDS": WAVE_POLL_SECONDS,
    }


def check_port_free(port: int) -> None:
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


def _answers(devhost: DevHost) -> bool:
    """Whether devhost still takes requests; a slow answer counts, a refused one does not."""
    try:
        devhost.request("GET", "/admin/host/status", timeout=REQUEST_TIMEOUT)
    except TimeoutError:
        return True
    except OSError:
        return False
    return True


def _tail(text: str) -> str:
    """The first line (what happened) and the last lines of the output after it."""
    first, _, rest = text.partition("\n")
    return "\n".join([first, *rest.splitlines()[-TAIL_LINES:]])
