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
:class:`EmulatorProcess` is the same harness around ``python -m emulator`` as a child process.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Self

from emulator.control_client import ControlClient
from emulator.harness import Harness, StaticTokenCredential, wait_until
from emulator.process import EmulatorProcess
from emulator.scenario import Scenario, load_scenario
from emulator.server import RunningServer, init, start
from emulator.tls import ensure_certificate

__all__ = ["ControlClient", "Emulator", "EmulatorProcess", "StaticTokenCredential", "wait_until"]

START_TIMEOUT = 30.0
SHUTDOWN_DRAIN_STEPS = 50
START_FAILED_MSG = "emulator did not start within {seconds}s"


class Emulator(Harness):
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
        super().__init__()
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.tls = ensure_certificate(tls_dir or self.scratch_dir())
        self.state = state
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: RunningServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator is not running")
        return self._server.endpoint

    @property
    def cert_path(self) -> Path:
        return self.tls.cert_path

    def start(self) -> Self:
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
        self.close_control()
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
        self.release_scratch()
