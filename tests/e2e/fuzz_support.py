"""What the fuzzing modules share: how big a run is, its seed, a tally of the requests it sent
(per operation, per status, with or without the function key) and the checks a stack must
pass afterwards (no rollout from a webhook or Flux event, no write it caused, the host alive,
its log free of tracebacks).

    ARCWAVE_FUZZ=full         the full run (`make fuzz`): at least 10,000 generated requests
    ARCWAVE_FUZZ_SEED=N       the seed (default SEED); every run with the same seed sends the same
                              generated requests (the answers may differ: ids, timing)
    ARCWAVE_FUZZ_REPORT=PATH  where the figures go as JSON (per operation, total, 5xx, seconds)
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from rollout_support import Stack

FULL = os.environ.get("ARCWAVE_FUZZ", "").strip().lower() == "full"
SEED = int(os.environ.get("ARCWAVE_FUZZ_SEED") or "20261126")
FULL_RUN_REQUESTS = 10_000
"""What a full run sends at least (the issue's figure)."""

WRONG_KEY = "not-the-function-key-0000"

_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|--- Logging error ---")


def size(short: int, full: int) -> int:
    """`short` in the normal suite, `full` under ARCWAVE_FUZZ=full."""
    return full if FULL else short


class Operations:
    """Which documented operation a request URL belongs to: `METHOD /api/path/{param}`."""

    def __init__(self, paths: Iterable[tuple[str, str]]) -> None:
        self._patterns = [
            (
                method.upper(),
                re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"),
                f"{method.upper()} {path}",
            )
            for method, path in paths
        ]
        # Literal paths win over templates (`/api/rollouts/{id}/timeline` over `{command}`).
        self._patterns.sort(key=lambda p: p[2].count("{"))

    def label(self, method: str, url: str) -> str:
        path = urlsplit(url).path
        for wanted, pattern, label in self._patterns:
            if wanted == method.upper() and pattern.match(path):
                return label
        return f"{method.upper()} (no documented operation)"


@dataclass
class Tally:
    """Every HTTP request a fuzzing module sent through `session`, counted as it was answered."""

    operations: Operations
    key: str
    started: float = field(default_factory=time.monotonic)
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never through a proxy from the env
        self.session.hooks["response"].append(self._count)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        label = self.operations.label(str(request.method), str(request.url))
        presented = request.headers.get("x-functions-key")
        key = "key" if presented == self.key else "no key" if presented is None else "wrong key"
        with self._lock:
            self.calls[label] += 1
            self.statuses[f"{label} {response.status_code}"] += 1
            self.keys[key] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{label} -> {response.status_code}: {request.url}")

    def count(self, label: str, status: int) -> None:
        """A request sent outside `session` (the webhook module's own client)."""
        with self._lock:
            self.calls[label] += 1
            self.statuses[f"{label} {status}"] += 1
            if status >= 500:
                self.server_errors.append(f"{label} -> {status}")

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def figures(self, **extra: Any) -> dict[str, Any]:
        return {
            "mode": "full" if FULL else "short",
            "seed": SEED,
            "seconds": round(time.monotonic() - self.started, 1),
            "total": self.total,
            "server_errors": len(self.server_errors),
            "per_operation": dict(sorted(self.calls.items())),
            "per_status": dict(sorted(self.statuses.items())),
            "by_key": dict(self.keys),
            **extra,
        }

    def report(self, name: str, **extra: Any) -> dict[str, Any]:
        """The figures, written to ARCWAVE_FUZZ_REPORT (`name` keyed) when it is set."""
        figures = self.figures(**extra)
        target = os.environ.get("ARCWAVE_FUZZ_REPORT")
        if target:
            path = Path(target)
            everything = json.loads(path.read_text()) if path.exists() else {}
            everything[name] = figures
            path.write_text(json.dumps(everything, indent=2) + "\n")
        return figures


def assert_untouched_by_hooks(stack: Stack) -> None:
    """No rollout whose trigger came from a webhook or a Flux event (in the store and through
    the API), and every write the emulator received names a revision of a rollout that an
    operator (or arcwave itself) started: nothing a webhook or Flux event sent was written."""
    stored = stack.records.rollouts.list()
    from_hooks = [r.id for r in stored if r.trigger.kind.startswith(("git:", "flux"))]
    assert from_hooks == [], f"rollouts started by a webhook or Flux event: {from_hooks}"
    key = {"x-functions-key": stack.host.function_key}
    code, listed = stack.host.request("GET", "/api/rollouts", headers=key)
    assert code == 200, listed
    assert {r["id"] for r in listed["rollouts"]} == {r.id for r in stored}
    for rollout in listed["rollouts"]:
        code, detail = stack.host.request("GET", f"/api/rollouts/{rollout['id']}", headers=key)
        assert code == 200, detail
        assert not detail["trigger"]["kind"].startswith(("git:", "flux")), detail["trigger"]
    revisions = {None, *(r.revision for r in stored), *(r.previous_revision for r in stored)}
    strays = [w for w in stack.writes() if w.get("commit") not in revisions]
    assert strays == [], f"writes no operator rollout explains: {strays[:5]}"


def assert_host_alive(stack: Stack) -> None:
    """healthz answers 200, the devhost process runs, and its whole log has no traceback."""
    code, body = stack.host.request("GET", "/api/healthz")
    assert code == 200 and body["status"] == "ok", (code, body)
    assert stack.host.alive, "devhost exited"
    log = stack.host.output(since_start=False)
    found = [m.start() for m in _TRACEBACK.finditer(log)]
    assert not found, "devhost logged a traceback:\n" + "\n---\n".join(
        log[max(0, at - 600) : at + 2400] for at in found[:3]
    )
