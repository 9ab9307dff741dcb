"""Public test harness: run the emulator in-process over TLS on a free port.

::

    with Emulator("scenarios/demo.yaml") as emulator:
        client = SourceControlConfigurationClient(
            emulator.credential(), SUBSCRIPTION, base_url=emulator.endpoint,
            connection_verify=str(emulator.cert_path),
        )
        emulator.control.move_branch("main", "3f2a1c9...")

The server runs on its own event loop in a background thread, so synchronous SDK clients can
call it from the test thread; several emulators can run side by side (``pytest -n auto``).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo

from emulator.scenario import Scenario, load_scenario
from emulator.server import RunningServer, init, start
from emulator.tls import ensure_certificate

START_TIMEOUT = 30.0
SHUTDOWN_DRAIN_STEPS = 50
START_FAILED_MSG = "emulator did not start within {seconds}s"
WAIT_TIMEOUT_MSG = "condition not met within {seconds}s: {what}"
T = TypeVar("T")


class StaticTokenCredential:
    """A TokenCredential that always returns the same bearer token (the emulator accepts any)."""

    def __init__(self, token: str = "emulator-token") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + 3600)


class ControlClient:
    """Thin client for ``/_emulator/``; every method returns the decoded JSON answer."""

    def __init__(self, endpoint: str, cert_path: Path) -> None:
        self.endpoint = endpoint
        self.verify = str(cert_path)
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        # verify per request: a session-level value loses to REQUESTS_CA_BUNDLE.
        response = self.session.request(
            method,
            f"{self.endpoint}/_emulator/{path}",
            json=body,
            params=params or None,
            timeout=30,
            verify=self.verify,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def _object(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        return cast(dict[str, Any], self._call(method, path, body))

    def _array(self, method: str, path: str) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call(method, path))

    def health(self) -> dict[str, Any]:
        return self._object("GET", "health")

    def clusters(self) -> list[dict[str, Any]]:
        return self._array("GET", "clusters")

    def add_cluster(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._object("POST", "clusters", {"name": name, **fields})

    def remove_cluster(self, name: str) -> None:
        self._call("DELETE", f"clusters/{name}")

    def set_connectivity(self, name: str, status: str) -> dict[str, Any]:
        return self._object("POST", f"clusters/{name}/connectivity", {"status": status})

    def edit_configuration(
        self, cluster: str, configuration: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            f"clusters/{cluster}/configurations/{configuration}/edit",
            {"properties": properties},
        )

    def protected_settings(self, cluster: str, configuration: str) -> dict[str, Any]:
        """``{"keys": [...], "values": {...}}``: the configuration's stored
        ``configurationProtectedSettings`` (test introspection; Azure has no such read)."""
        return self._object("GET", f"clusters/{cluster}/configurations/{configuration}/protected")

    def faults(self) -> dict[str, Any]:
        return self._object("GET", "faults")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Replace every fault: the scenario's ``faults`` keys (camelCase) plus ``failures``."""
        return self._object("PUT", "faults", faults)

    def patch_faults(self, **faults: Any) -> dict[str, Any]:
        return self._object("PATCH", "faults", faults)

    def branches(self) -> dict[str, str]:
        return cast(dict[str, str], self._call("GET", "branches"))

    def move_branch(self, branch: str, sha: str) -> dict[str, Any]:
        return self._object("PUT", f"branches/{branch}", {"sha": sha})

    def flux(self) -> dict[str, Any]:
        return self._object("GET", "flux")

    def set_flux(self, **settings: Any) -> dict[str, Any]:
        """``progression`` (time, immediate, manual), ``reconcileSeconds``, ``sources``,
        ``ociRevisionForm`` and/or ``ociRevisionRules`` (camelCase, as in the scenario)."""
        return self._object("PATCH", "flux", settings)

    def reconcile(self) -> int:
        return int(self._call("POST", "flux/reconcile")["reconciled"])

    def secrets(self) -> list[str]:
        """The Key Vault stand-in's secret names (values are never listed)."""
        return cast(list[str], self._call("GET", "keyvault/secrets"))

    def set_secret(self, name: str, value: str) -> dict[str, Any]:
        """A new version of ``name``: ``{"name", "version", "versions"}``."""
        return self._object("PUT", f"keyvault/secrets/{name}", {"value": value})

    def delete_secret(self, name: str) -> None:
        self._call("DELETE", f"keyvault/secrets/{name}")

    def writes(self) -> list[dict[str, Any]]:
        return self._array("GET", "writes")

    def clear_writes(self) -> None:
        self._call("DELETE", "writes")

    def events(self) -> dict[str, Any]:
        return self._object("GET", "events")

    def reset(self) -> dict[str, Any]:
        return self._object("POST", "reset")


class Emulator:
    """Start the emulator for a scenario (file path, mapping or :class:`Scenario`)."""

    def __init__(
        self,
        scenario: Scenario | str | Path | dict[str, Any],
        *,
        tls_dir: Path | None = None,
        state: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if tls_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="arcwave-emulator-")
            tls_dir = Path(self._tmp.name)
        self.tls = ensure_certificate(tls_dir)
        self.state = state
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: RunningServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._control: ControlClient | None = None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator is not running")
        return self._server.endpoint

    @property
    def vault_url(self) -> str:
        """The Key Vault stand-in's URL (the same endpoint as ARM); construct ``SecretClient``
        with ``verify_challenge_resource=False``, as a loopback URL is no vault domain."""
        return self.endpoint

    @property
    def cert_path(self) -> Path:
        return self.tls.cert_path

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            self._control = ControlClient(self.endpoint, self.cert_path)
        return self._control

    @staticmethod
    def credential(token: str = "emulator-token") -> StaticTokenCredential:
        return StaticTokenCredential(token)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for azure-mgmt clients: endpoint, trust, fast LRO polling."""
        return {
            "base_url": self.endpoint,
            "connection_verify": str(self.cert_path),
            "polling_interval": 0.05,
        }

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._run, name="arcwave-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError(START_FAILED_MSG.format(seconds=START_TIMEOUT))
        if self._error is not None:
            raise RuntimeError("emulator failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            app = init(self.scenario, state_path=self.state)
            self._server = loop.run_until_complete(start(app, self.tls, self.host, self.port))
        except BaseException as error:
            self._error = error
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            await self._server.stop()
        # TLS transports finish their close_notify exchange on later loop iterations.
        for _ in range(SHUTDOWN_DRAIN_STEPS):
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if not pending:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)

    def stop(self) -> None:
        """Stop serving (closing open connections), then end the loop and its thread."""
        if self._control is not None:
            self._control.session.close()
            self._control = None
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def wait_until(
    condition: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll ``condition`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(WAIT_TIMEOUT_MSG.format(seconds=timeout, what=what or condition))
        time.sleep(interval)
