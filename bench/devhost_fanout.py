"""Measure devhost's durable engine on fan-out workloads (prints figures; asserts nothing).

    .venv/bin/python bench/devhost_fanout.py [--activities 1000] [--batch 100]
        [--orchestrations 100] [--per-orchestration 10]

Scenario 1: one orchestration fans out `--activities` no-op activities in batches of `--batch`.
Scenario 2: `--orchestrations` orchestrations started at once, each running
`--per-orchestration` no-op activities. For each: activities/s (wall clock from the first start
to the last completion), orchestration episodes, history events written, and the devhost
process's peak resident memory (VmHWM).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from devhost.testing import DevHost

APP = Path(__file__).resolve().parent.parent / "tests" / "apps" / "fanout_bench"
API = "/runtime/webhooks/durabletask"


def engine_stats(host: DevHost) -> dict[str, int]:
    return dict(host.request("GET", "/admin/host/status")[1]["durable"])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(host: DevHost, instance_id: str, spec: dict[str, int]) -> None:
    status, body = host.request(
        "POST", f"{API}/orchestrators/fan_out/{instance_id}?code={host.function_key}", spec
    )
    if status != 202:
        raise SystemExit(f"starting {instance_id} answered {status}: {body}")


def run(host: DevHost, name: str, specs: dict[str, dict[str, int]]) -> dict[str, Any]:
    before = engine_stats(host)
    started = time.perf_counter()
    for instance_id, spec in specs.items():
        start(host, instance_id, spec)
    for instance_id, spec in specs.items():
        done = host.wait_for(instance_id, timeout=600)
        if done["runtimeStatus"] != "Completed" or done["output"] != spec["n"]:
            raise SystemExit(f"{instance_id} ended {done['runtimeStatus']}: {done['output']}")
    elapsed = time.perf_counter() - started
    after = engine_stats(host)
    activities = sum(spec["n"] for spec in specs.values())
    return {
        "scenario": name,
        "activities": activities,
        "seconds": elapsed,
        "activities_per_s": activities / elapsed,
        "episodes": after.get("episodes", 0) - before.get("episodes", 0),
        "history_events": after.get("history_events", 0) - before.get("history_events", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--orchestrations", type=int, default=100)
    parser.add_argument("--per-orchestration", type=int, default=10)
    args = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="devhost-bench-") as state,
        DevHost(APP, state_dir=state) as host,
    ):
        rows.append(run(host, "1 x fan-out", {"one": {"n": args.activities, "batch": args.batch}}))
        many = {
            f"many-{i}": {"n": args.per_orchestration, "batch": args.per_orchestration}
            for i in range(args.orchestrations)
        }
        rows.append(run(host, f"{args.orchestrations} x {args.per_orchestration}", many))
        assert host.pid is not None
        peak = peak_rss_mb(host.pid)
    print(
        f"{'scenario':<14} {'activities':>10} {'seconds':>8} {'act/s':>8} {'episodes':>9} "
        f"{'history':>8}"
    )
    for r in rows:
        print(
            f"{r['scenario']:<14} {r['activities']:>10} {r['seconds']:>8.2f} "
            f"{r['activities_per_s']:>8.0f} {r['episodes']:>9} {r['history_events']:>8}"
        )
    print(f"devhost peak memory (VmHWM): {peak:.0f} MB")


if __name__ == "__main__":
    main()
