"""Helpers of the `arcwave` tests: the command run in-process (typer's CliRunner) with its own
config folder, and a fake app: an HTTP server answering what a test tells it to, recording what
it was sent. conftest.py hands them out as fixtures."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app

CLEARED = (
    "ARCWAVE_URL",
    "ARCWAVE_KEY",
    "ARCWAVE_TOKEN",
    "ARCWAVE_CONTEXT",
    "ARCWAVE_CA_BUNDLE",
    "ARCWAVE_TIMEOUT",
    "ARCWAVE_MANAGED_IDENTITY",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
)
"""The settings of the shell running the tests that must not reach the command under test."""


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout:\n{self.stdout[-4000:]}\nstderr:\n{self.stderr[-4000:]}"


@dataclass
class Arcwave:
    """`arcwave ARGS...` with `ARCWAVE_CONFIG_DIR` in a temporary folder; `env` is laid over
    the test's environment, whose ARCWAVE_* settings are removed first."""

    config_dir: Path
    env: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> Ran:
        environ: dict[str, str | None] = dict.fromkeys(CLEARED)
        environ.update(ARCWAVE_CONFIG_DIR=str(self.config_dir), COLUMNS="200")
        environ.update(self.env)
        environ.update(env)
        result = CliRunner().invoke(app, list(args), env=environ, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug in arcwave: fail with its traceback
        return Ran(result.exit_code, result.stdout, result.stderr)


@dataclass
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeApp:
    """Answers `routes[(method, path)]` = (status, JSON body or None, headers); 404 else."""

    url: str = ""
    routes: dict[tuple[str, str], tuple[int, Any, dict[str, str]]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    sequences: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)

    def answer(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.routes[(method, path)] = (status, body, headers or {})

    def answer_in_turn(self, method: str, path: str, answers: list[tuple[int, Any]]) -> None:
        """Each call gets the next answer; the last one repeats."""
        self.sequences[(method, path)] = list(answers)

    def reply(self, method: str, path: str) -> tuple[int, Any, dict[str, str]]:
        queue = self.sequences.get((method, path))
        if queue:
            status, body = queue.pop(0) if len(queue) > 1 else queue[0]
            return status, body, {}
        return self.routes.get((method, path), (404, {"error": f"no route {path}"}, {}))


@contextmanager
def serving() -> Iterator[FakeApp]:
    """A fake app on a free loopback port, for the `with` block."""
    fake = FakeApp()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake.sent.append(Sent(self.command, self.path, dict(self.headers.items()), body))
            status, answer, headers = fake.reply(self.command, self.path)
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
