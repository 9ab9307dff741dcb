"""What the two emulator harnesses share: the endpoint's clients, a scratch folder, ``with``.

:class:`emulator.testing.Emulator` serves from a thread of the calling process;
:class:`emulator.process.EmulatorProcess` runs ``python -m emulator`` as a child process.
Both are used the same way::

    with Emulator(scenario) as emulator:        # or EmulatorProcess(scenario)
        client = SourceControlConfigurationClient(
            emulator.credential(), SUBSCRIPTION, **emulator.client_kwargs()
        )
        emulator.control.writes()
"""

from __future__ import annotations

import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

from azure.core.credentials import AccessToken, AccessTokenInfo

from emulator.control_client import ControlClient

TOKEN_SECONDS = 3600
WAIT_TIMEOUT_MSG = "condition not met within {seconds}s: {what}"
T = TypeVar("T")


class StaticTokenCredential:
    """A TokenCredential that always returns the same bearer token (the emulator accepts any)."""

    def __init__(self, token: str = "emulator-token") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + TOKEN_SECONDS)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + TOKEN_SECONDS)


class Harness(ABC):
    """A running emulator: ``start()`` returns it ready to serve, ``stop()`` ends it."""

    def __init__(self) -> None:
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._control: ControlClient | None = None

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """``https://127.0.0.1:PORT``; RuntimeError while not running."""

    @property
    @abstractmethod
    def cert_path(self) -> Path:
        """The self-signed certificate clients trust (``connection_verify``)."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    @property
    def vault_url(self) -> str:
        """The Key Vault stand-in's URL (the same endpoint as ARM); construct ``SecretClient``
        with ``verify_challenge_resource=False``, as a loopback URL is no vault domain."""
        return self.endpoint

    @property
    def log_analytics_endpoint(self) -> str:
        """The Log Analytics query API (``https://127.0.0.1:PORT/v1``), as
        ``https://api.loganalytics.io/v1`` is in Azure: ``LogsQueryClient(endpoint=...)``."""
        return f"{self.endpoint}/v1"

    @property
    def prometheus_endpoint(self) -> str:
        """An Azure Monitor workspace's Prometheus query endpoint (the same endpoint)."""
        return self.endpoint

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

    def scratch_dir(self) -> Path:
        """A temporary folder of this harness; ``release_scratch()`` removes it."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="arcwave-emulator-")
        return Path(self._scratch.name)

    def release_scratch(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def close_control(self) -> None:
        """Close the control client's connections (a later ``control`` opens new ones)."""
        if self._control is not None:
            self._control.close()
            self._control = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_until(
    condition: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll ``condition`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(WAIT_TIMEOUT_MSG.format(seconds=timeout, what=what or condition))
        time.sleep(interval)
    return value
