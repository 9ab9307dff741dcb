"""`DevHost`: run devhost as a subprocess for tests and scripts.

    with DevHost("tests/apps/durable_features", state_dir=tmp_path) as host:
        status, body = host.request("GET", "/api/hello/world")

The host listens on a free port (port=0), uses its own state folder and a known function
key, and is stopped (SIGTERM, then SIGKILL) on exit. `kill()` and `start()` let a test crash
and restart it on the same state; a restart reuses the port, so URLs handed out stay valid.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devhost.harness import TERMINAL, Harness

_LISTENING = re.compile(r"devhost: listening on (http://\S+)")
_ROOT = Path(__file__).resolve().parent.parent
# devhost is on loopback: never send its requests through an HTTP(S)_PROXY from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


_LINUX = sys.platform.startswith("linux")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent process dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DevHostError(RuntimeError):
    """devhost did not start or stop as expected; the message includes its output."""


class DevHost(Harness):
    """A devhost subprocess serving one function app folder.

    A `with` block starts it; `close()` stops it and removes a temporary state folder.
    """

    def __init__(
        self,
        app_dir: str | os.PathLike[str],
        state_dir: str | os.PathLike[str] | None = None,
        port: int = 0,
        env: dict[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        log_path: str | os.PathLike[str] | None = None,
        keep_out: tuple[str, ...] = (),
        die_with_parent: bool = False,
        log_level: str | None = None,
        easy_auth: bool = False,
    ) -> None:
        """`log_path`: where its output goes (default `STATE/devhost.log`); `log_level`: its
        `--log-level` (devhost's default, INFO, when None). `keep_out`:
        prefixes of this process's environment variables the child does not inherit (`env`
        still reaches it). `die_with_parent`: the child gets SIGTERM when this process dies,
        however it dies (Linux only; it runs code in the child before exec, so use it from a
        parent that runs no other threads). `easy_auth`: App Service authentication on
        (`DEVHOST_EASY_AUTH=1`), tokens from `token()`; when False it is off unless `env` or the
        app's local.settings.json turns it on (this process's own setting is not passed on)."""
        super().__init__()
        self.app_dir = Path(app_dir).resolve()
        self.state_dir = self._state_folder(state_dir, "devhost-").resolve()
        self.port = port
        self.host = host
        self.env = dict(env or {})
        if easy_auth:
            self.env["DEVHOST_EASY_AUTH"] = "1"
        self.function_key = self.env.get("DEVHOST_FUNCTION_KEY") or secrets.token_urlsafe(16)
        self.start_timeout = start_timeout
        self.base_url = ""
        self.log_path = Path(log_path) if log_path is not None else self.state_dir / "devhost.log"
        self.keep_out = keep_out
        self.die_with_parent = die_with_parent
        self.log_level = log_level
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._opened.callback(self.stop)

    # lifecycle -----------------------------------------------------------------------------
    def _on_enter(self) -> None:
        self.start()

    def start(self) -> None:
        """Start (or restart) the subprocess and wait until /admin/host/status answers 200."""
        if self._proc is not None and self._proc.poll() is None:
            raise DevHostError("devhost is already running; stop() or kill() it first")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = self._environment()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self._log_offset = self.log_path.stat().st_size
        port = self.port
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devhost",
                "--app",
                str(self.app_dir),
                "--host",
                self.host,
                "--port",
                str(port),
                "--state",
                str(self.state_dir),
                *(["--log-level", self.log_level] if self.log_level else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(self.app_dir),
            preexec_fn=_die_with_parent if self.die_with_parent and _LINUX else None,
        )
        log.close()
        self._wait_ready()

    def _environment(self) -> dict[str, str]:
        # Easy Auth is the harness's choice (`easy_auth`, `env`), never this process's setting
        keep_out = (*self.keep_out, "DEVHOST_EASY_AUTH")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(keep_out)}
        return {**inherited, **self.env, "DEVHOST_FUNCTION_KEY": self.function_key}

    @property
    def master_key(self) -> str:
        """The master key devhost uses: `DEVHOST_MASTER_KEY` from its environment or the app's
        local.settings.json, else the function key."""
        key = self._environment().get("DEVHOST_MASTER_KEY")
        if not key:
            try:
                settings = json.loads((self.app_dir / "local.settings.json").read_text("utf-8"))
                key = str((settings.get("Values") or {}).get("DEVHOST_MASTER_KEY") or "")
            except (OSError, ValueError, AttributeError):
                key = ""
        return key or self.function_key

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise DevHostError(f"devhost exited with {self._proc.returncode}:\n{self.output()}")
            found = _LISTENING.search(self.output())
            if found:
                self.base_url = found.group(1)
                self.port = int(self.base_url.rsplit(":", 1)[1])
                try:
                    status, body = self.request("GET", "/admin/host/status")
                except OSError:
                    status, body = 0, None
                if status == 200 and isinstance(body, dict) and body.get("state") == "Running":
                    return
            time.sleep(0.05)
        self.kill()
        raise DevHostError(
            f"devhost did not become ready in {self.start_timeout}s:\n{self.output()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in `timeout` seconds."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL the subprocess: a crash at an arbitrary moment."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    @property
    def alive(self) -> bool:
        """Whether the subprocess is running (it may still be starting)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def output(self, since_start: bool = True) -> str:
        """Everything devhost printed (since the last start, by default)."""
        if not self.log_path.exists():
            return ""
        data = self.log_path.read_bytes()
        return data[self._log_offset if since_start else 0 :].decode("utf-8", "replace")

    # Durable helpers -------------------------------------------------------------------------
    def status(self, instance_id: str, *, history: bool = False) -> dict[str, Any] | None:
        """The instance status from the Durable HTTP API, or None when it does not exist."""
        query = f"code={self.function_key}&showHistory={history}&showHistoryOutput={history}"
        code, body = self.request(
            "GET", f"/runtime/webhooks/durabletask/instances/{instance_id}?{query}"
        )
        if code == 404:
            return None
        if code not in (200, 202):
            raise DevHostError(f"status of '{instance_id}' answered {code}: {body}")
        return body if isinstance(body, dict) else None

    def wait_for(
        self,
        instance_id: str,
        statuses: tuple[str, ...] = TERMINAL,
        *,
        timeout: float = 60.0,
        history: bool = False,
    ) -> dict[str, Any]:
        """Poll until the instance reaches one of `statuses`; DevHostError after `timeout` s."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            last = self.status(instance_id, history=history)
            if last is not None and last.get("runtimeStatus") in statuses:
                return last
            time.sleep(0.05)
        raise DevHostError(
            f"instance '{instance_id}' did not reach {statuses} in {timeout}s; last status: {last}"
        )

    # App Service authentication --------------------------------------------------------------
    def token(self, name: str, roles: Sequence[str], *, ttl_seconds: int = 3600) -> str:
        """A bearer token for `name` with `roles` from `POST /admin/devhost/token` (needs
        `easy_auth=True`); send it as `Authorization: Bearer <token>`."""
        status, body = self.request(
            "POST",
            "/admin/devhost/token",
            {"name": name, "roles": list(roles), "ttlSeconds": ttl_seconds},
            headers={"x-functions-key": self.master_key},
        )
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("token"), str):
            raise DevHostError(f"minting a token answered {status}: {body}")
        return str(body["token"])

    def session_cookie(
        self, name: str, roles: Sequence[str], *, ttl_seconds: int = 8 * 3600
    ) -> dict[str, str]:
        """A signed-in browser's `AppServiceAuthSession` cookie for `name` with `roles` (needs
        `easy_auth=True`), ready for Selenium's `driver.add_cookie(...)` once the browser is on
        a devhost page: `{"name": "AppServiceAuthSession", "value": <token>, "path": "/"}`."""
        return {
            "name": "AppServiceAuthSession",
            "value": self.token(name, roles, ttl_seconds=ttl_seconds),
            "path": "/",
        }

    # HTTP ----------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path

    def raw(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; returns (status, response headers, body bytes). Never proxied."""
        req = urllib.request.Request(
            self.url(path), data=data, method=method, headers=headers or {}
        )
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """Send one request; returns (status, parsed JSON or text or None)."""
        data = raw
        all_headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        status, _, payload = self.raw(method, path, data=data, headers=all_headers, timeout=timeout)
        if not payload:
            return status, None
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", "replace")


def poll(check: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Return `check()`'s first truthy value; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
