"""Measure the ETA simulator on large fleets (prints figures; asserts nothing).

    .venv/bin/python bench/eta_simulate.py [--clusters 5000] [--subscriptions 3] [--runs 5]

The plan preview and every read of a running rollout (`GET /api/rollouts/{id}`, which the
dashboard asks every 2 s) simulate the whole remaining rollout, so its cost matters. Three
shapes of one wave of `--clusters` clusters over `--subscriptions` subscriptions and sites of
10: a narrow window with a per-site cap, a window as wide as the wave (the write budget paces
it), and a nightly maintenance window on every cluster (the window paces it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.eta import ClusterInput, WaveInput, WriteBudget, simulate  # noqa: E402
from shared.eta_model import ReconcileEta, ReconcileSource  # noqa: E402
from shared.trackspec.windows import MaintenanceWindow  # noqa: E402

AS_OF = datetime(2026, 1, 5, 12, tzinfo=UTC)
RECONCILE = ReconcileEta(duration=timedelta(minutes=2), source=ReconcileSource.DEFAULT)
NIGHT = MaintenanceWindow(name="night", schedule="0 22 * * *", duration=timedelta(hours=4))


def shapes(clusters: int, subscriptions: int) -> dict[str, WaveInput]:
    def members(windows: tuple[MaintenanceWindow, ...] = ()) -> list[ClusterInput]:
        return [
            ClusterInput(
                id=f"c{i}",
                subscription=f"s{i % subscriptions}",
                site=f"site{i // 10}",
                windows=windows,
            )
            for i in range(clusters)
        ]

    return {
        "narrow window, 1 per site": WaveInput(
            name="w", clusters=members(), max_in_flight=50, max_per_site=1, reconcile=RECONCILE
        ),
        "window as wide as the wave": WaveInput(
            name="w", clusters=members(), max_in_flight=clusters, reconcile=RECONCILE
        ),
        "nightly maintenance window": WaveInput(
            name="w", clusters=members((NIGHT,)), max_in_flight=200, reconcile=RECONCILE
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    budget = WriteBudget(burst=100, per_second=10)
    print(f"{args.clusters} clusters, {args.subscriptions} subscriptions, {args.runs} runs each")
    for name, wave in shapes(args.clusters, args.subscriptions).items():
        took = []
        for _ in range(args.runs):
            started = time.perf_counter()
            eta = simulate([wave], budget, AS_OF)
            took.append(time.perf_counter() - started)
        batches = len(eta.waves[0].batches)
        print(
            f"  {name}: median {statistics.median(took) * 1000:.0f} ms, "
            f"{batches} batches, finishes {eta.finish:%Y-%m-%d %H:%M} UTC"
        )


if __name__ == "__main__":
    main()
