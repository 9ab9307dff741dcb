"""What hostile input costs a running app: answer time and size, measured from outside.

Starts the emulator and devhost serving the app on SQLite, then sends each hostile request
`--repeat` times and reports, per case, the answer time's 95th percentile (the status, the
answer's size, the median and the worst in the note). The cases: the YAML alias bomb, lists
nested 10,000 deep (JSON and YAML), a body over the track spec's cap, a spec over the store's
2 MB document limit, and a PUT and a signed webhook while another process holds the store's
write lock. It
asserts nothing (tests/e2e/test_api.py checks the answers; docs/reliability.md has the
figures).

Run: .venv/bin/python -m bench.hostile_input [--repeat 50]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bench.figures import Figure, Size, show
from bench.stack import ROOT, Stack, local_stack

BENCH = "hostile_input"
SIZES = {Size.FULL: 50, Size.SMOKE: 1}
"""How many times each request is sent (a tenth of it for the 2 MB case, 5 or fewer for the
locked store)."""
SCENARIO = ROOT / "scenarios" / "demo.yaml"
SECRET = "bench-webhook-secret"
TRACK = yaml.safe_load((ROOT / "scenarios" / "demo" / "track.yaml").read_text())

ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    + ["name: demo"]
).encode()
"""Nine levels of ten aliases: a billion strings to a reader that follows them."""


def over_the_store_limit() -> bytes:
    """Under the 256 KiB body cap, over the 2 MB document limit once defaults are filled in."""
    spec = dict(TRACK)
    spec["configuration"] = {
        **TRACK["configuration"],
        "kustomizations": {f"k{i}": {} for i in range(19_000)},
    }
    return json.dumps(spec, separators=(",", ":")).encode()


def push() -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": "1" * 40,
            "repository": {"clone_url": TRACK["source"]["url"], "full_name": "contoso/demo"},
            "head_commit": {"id": "1" * 40, "timestamp": "2026-12-05T00:00:00Z"},
        }
    ).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": f"sha256={signature}",
    }


@contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """Another process's exclusive lock on the store, as a stuck writer would hold it."""
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def timed(send: Callable[[], tuple[int, dict[str, str], bytes]], repeat: int) -> dict[str, Any]:
    times, statuses, sizes = [], set(), set()
    for _ in range(repeat):
        started = time.perf_counter()
        status, _, body = send()
        times.append(time.perf_counter() - started)
        statuses.add(status)
        sizes.add(len(body))
    times.sort()
    return {
        "status": "/".join(map(str, sorted(statuses))),
        "bytes": max(sizes),
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[max(0, round(len(times) * 0.95) - 1)] * 1000,
        "worst_ms": times[-1] * 1000,
    }


def figures(size: Size = Size.FULL) -> list[Figure]:
    return measure(SIZES[size])


def measure(repeat: int) -> list[Figure]:
    with local_stack(SCENARIO, env={"ARCWAVE_WEBHOOK_SECRET": SECRET}) as stack:
        return run(stack, repeat)


def run(stack: Stack, repeat: int) -> list[Figure]:
    host, db = stack.host, stack.store_path
    key = {"x-functions-key": host.function_key}
    track = f"/api/tracks/{TRACK['name']}"
    yaml_type = {**key, "Content-Type": "application/yaml"}
    json_type = {**key, "Content-Type": "application/json"}
    code, _, created = host.raw("PUT", track, data=json.dumps(TRACK).encode(), headers=json_type)
    if code not in (200, 201):
        raise SystemExit(f"registering the track answered {code}: {created[:300]!r}")
    body, signed = push()
    cases: list[tuple[str, Callable[[], tuple[int, dict[str, str], bytes]], int]] = [
        (
            f"YAML alias bomb ({len(ALIAS_BOMB)} bytes)",
            lambda: host.raw("PUT", track, data=ALIAS_BOMB, headers=yaml_type),
            repeat,
        ),
        (
            "JSON lists 10,000 deep",
            lambda: host.raw("PUT", track, data=b"[" * 10_000 + b"]" * 10_000, headers=json_type),
            repeat,
        ),
        (
            "YAML lists 10,000 deep",
            lambda: host.raw("PUT", track, data=b"- " * 10_000 + b"x\n", headers=yaml_type),
            repeat,
        ),
        (
            "track spec over the 256 KiB cap",
            lambda: host.raw("PUT", track, data=b" " * (300 * 1024), headers=json_type),
            repeat,
        ),
        (
            "track spec over the 2 MB document limit",
            lambda: host.raw("PUT", track, data=over_the_store_limit(), headers=json_type),
            max(1, repeat // 10),
        ),
    ]
    locked = min(5, repeat)
    rows = [(name, timed(send, n)) for name, send, n in cases]
    with write_lock(db):
        rows.append(
            (
                "PUT track, store write-locked",
                timed(
                    lambda: host.raw(
                        "PUT", track, data=json.dumps(TRACK).encode(), headers=json_type
                    ),
                    locked,
                ),
            )
        )
        rows.append(
            (
                "signed webhook, store write-locked",
                timed(
                    lambda: host.raw("POST", "/api/hooks/github", data=body, headers=signed),
                    locked,
                ),
            )
        )
    return [
        Figure(
            BENCH,
            f"{name}: answer time p95",
            row["p95_ms"],
            "ms",
            note=(
                f"{row['status']}, {row['bytes']} B, median {row['median_ms']:.1f} ms, "
                f"worst {row['worst_ms']:.1f} ms"
            ),
        )
        for name, row in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=SIZES[Size.FULL])
    args = parser.parse_args()
    show("custom", measure(args.repeat))


if __name__ == "__main__":
    main()
