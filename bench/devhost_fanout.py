"""Measure devhost's durable engine on fan-out workloads (reports figures; asserts nothing).

    .venv/bin/python -m bench.devhost_fanout [--activities 1000] [--batch 100]
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
from typing import Any

from bench.figures import Figure, Size, show
from bench.stack import ROOT, peak_rss_mb
from devhost.testing import DevHost

BENCH = "devhost_fanout"
APP = ROOT / "tests" / "apps" / "fanout_bench"
API = "/runtime/webhooks/durabletask"
SIZES = {
    Size.FULL: {"activities": 1000, "batch": 100, "orchestrations": 100, "per_orchestration": 10},
    Size.SMOKE: {"activities": 40, "batch": 10, "orchestrations": 4, "per_orchestration": 5},
}


def engine_stats(host: DevHost) -> dict[str, int]:
    return dict(host.request("GET", "/admin/host/status")[1]["durable"])


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


def figures(size: Size = Size.FULL) -> list[Figure]:
    return measure(**SIZES[size])


def measure(
    activities: int, batch: int, orchestrations: int, per_orchestration: int
) -> list[Figure]:
    """Both scenarios on one devhost: activities per second (episodes and history events in
    the note), then the process's peak memory."""
    with (
        tempfile.TemporaryDirectory(prefix="devhost-bench-") as state,
        DevHost(APP, state_dir=state) as host,
    ):
        rows = [
            run(
                host,
                f"1 orchestration x {activities:,} activities",
                {"one": {"n": activities, "batch": batch}},
            )
        ]
        many = {
            f"many-{i}": {"n": per_orchestration, "batch": per_orchestration}
            for i in range(orchestrations)
        }
        rows.append(run(host, f"{orchestrations} orchestrations x {per_orchestration}", many))
        assert host.pid is not None
        peak = peak_rss_mb(host.pid)
    found = [
        Figure(
            BENCH,
            f"{r['scenario']}: activities per second",
            r["activities_per_s"],
            "/s",
            note=f"{r['episodes']} episodes, {r['history_events']} history events",
        )
        for r in rows
    ]
    found.append(Figure(BENCH, "devhost peak memory (VmHWM)", peak, "MB"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    full = SIZES[Size.FULL]
    parser.add_argument("--activities", type=int, default=full["activities"])
    parser.add_argument("--batch", type=int, default=full["batch"])
    parser.add_argument("--orchestrations", type=int, default=full["orchestrations"])
    parser.add_argument("--per-orchestration", type=int, default=full["per_orchestration"])
    args = parser.parse_args()
    found = measure(args.activities, args.batch, args.orchestrations, args.per_orchestration)
    show("custom", found)


if __name__ == "__main__":
    main()
