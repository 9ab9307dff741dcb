"""Measure the ETA simulator on large fleets (reports figures; asserts nothing).

    .venv/bin/python -m bench.eta_simulate [--clusters 5000] [--subscriptions 3] [--runs 5]

The plan preview and every read of a running rollout (`GET /api/rollouts/{id}`, which the
dashboard asks every 2 s) simulate the whole remaining rollout, so its cost matters. Three
shapes of one wave of `--clusters` clusters over `--subscriptions` subscriptions and sites of
10: a narrow window with a per-site cap, a window as wide as the wave (the write budget paces
it), and a nightly maintenance window on every cluster (the window paces it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.figures import Figure, Size, show
from shared.eta import ClusterInput, WaveInput, simulate
from shared.eta_model import ReconcileEta, ReconcileSource
from shared.forecast import DEFAULT_BUDGET
from shared.trackspec.windows import MaintenanceWindow

BENCH = "eta_simulate"
SIZES = {
    Size.FULL: {"clusters": 5000, "subscriptions": 3, "runs": 5},
    Size.SMOKE: {"clusters": 200, "subscriptions": 3, "runs": 1},
}

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


def figures(size: Size = Size.FULL) -> list[Figure]:
    return measure(**SIZES[size])


def measure(clusters: int, subscriptions: int, runs: int) -> list[Figure]:
    """The median time to simulate each shape, with the gateway's default write budget."""
    found = []
    for name, wave in shapes(clusters, subscriptions).items():
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            eta = simulate([wave], DEFAULT_BUDGET, AS_OF)
            took.append(time.perf_counter() - started)
        batches = len(eta.waves[0].batches)
        found.append(
            Figure(
                BENCH,
                f"ETA of {clusters:,} clusters over {subscriptions} subs, {name} (median)",
                statistics.median(took) * 1000,
                "ms",
                note=f"{batches} batch{'' if batches == 1 else 'es'}, "
                f"finishes {eta.finish:%Y-%m-%d %H:%M} UTC",
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=SIZES[Size.FULL]["clusters"])
    parser.add_argument("--subscriptions", type=int, default=SIZES[Size.FULL]["subscriptions"])
    parser.add_argument("--runs", type=int, default=SIZES[Size.FULL]["runs"])
    args = parser.parse_args()
    show("custom", measure(args.clusters, args.subscriptions, args.runs))


if __name__ == "__main__":
    main()
