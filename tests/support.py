"""Small helpers shared by test modules."""

import json
import re
import threading
import time
import typing
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

SECRETS: dict[str, str] = {}
"""Every secret value the suite gives arcwave, devhost or the emulator, with its name: no log
of the suite may show one (tests/logscan.py looks, at the end of each session)."""
SHORTEST_SECRET = 8
"""A shorter value would be found in logs by chance."""


def secret(name: str, value: str) -> str:
    """`value`, registered under `name` as a secret no log may show: webhook secrets, keys,
    tokens and private keys a test makes or sets. The scan reports the name, never the value."""
    if len(value.strip()) < SHORTEST_SECRET:
        raise ValueError(
            f"secret {name!r} is shorter than {SHORTEST_SECRET} characters: it would be found "
            "in logs by chance; give it a longer value"
        )
    SECRETS.setdefault(value, name)
    return value


SECRET_SETTING = re.compile(r"_(KEY|SECRET)(_[A-Z]+)?$")
"""The settings that hold secrets: `ARCWAVE_WEBHOOK_SECRET[_<PROVIDER>]`,
`ARCWAVE_FLUX_HMAC_KEY`, `ARCWAVE_EVENTGRID_KEY`, `ARCWAVE_COSMOS_KEY`, devhost's keys."""


def secret_settings(env: Mapping[str, str]) -> dict[str, str]:
    """`env`, each value of a secret setting in it registered (`secret`) under the setting's
    name; what a stack hands devhost goes through here."""
    for name, value in env.items():
        if SECRET_SETTING.search(name) and value:
            secret(name, value)
    return dict(env)


HAND_MADE_CONFIGURATION: dict[str, Any] = {
    "properties": {
        "scope": "cluster",
        "namespace": "default",
        "sourceKind": "GitRepository",
        "suspend": False,
        "gitRepository": {
            "url": "https://github.com/contoso/hand-made",
            "repositoryRef": {"branch": "release"},
            "syncIntervalInSeconds": 300,
            "timeoutInSeconds": 300,
        },
        "kustomizations": {"apps": {"path": "./apps", "prune": True}},
    }
}
"""A fluxConfiguration someone made by hand before arcwave came (same name as the track's)."""


def model_field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every wire field of `model` as a dotted path (`waves[].maxFailures`), nested models too."""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        paths.append(path)
        nested, suffix = _nested_model(field.annotation)
        if nested is not None:
            paths.extend(model_field_paths(nested, f"{path}{suffix}."))
    return paths


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        inner, _ = _nested_model(args[0])
        return inner, "[]"
    if origin is dict and args:
        inner, _ = _nested_model(args[1])
        return inner, ".X"
    return None, ""


def poll(check: Callable[[], T], *, timeout: float, interval: float = 0.1) -> T | None:
    """`check()`'s first truthy answer, calling it every `interval` s; None after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "",
    context: Callable[[], str] | None = None,
) -> T:
    """`check()`'s first truthy answer; after `timeout` an AssertionError naming `what`, the
    last answer and, when given, `context()` (a log tail, say)."""
    last: list[T] = []

    def watched() -> T:
        last[:] = [check()]
        return last[0]

    found = poll(watched, timeout=timeout, interval=interval)
    if found:
        return found
    detail = f"\n{context()}" if context else ""
    raise AssertionError(
        f"{what or 'not true'}: not within {timeout}s; last: {last[0] if last else None!r}{detail}"
    )


class Topic:
    """A local stand-in for an Event Grid topic that records what it receives."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], Any]] = []
        self.status = 200
        topic = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                topic.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(topic.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
