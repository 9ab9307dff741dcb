"""The fleet gateway at fleet scale, against the emulator in its own process.

Reports (it asserts nothing):
* discovery: time to list the 5,000 clusters of scenarios/fleet-5000.yaml through Resource
  Graph ($skipToken paging), and the same with a tag selection;
* bulk health: time to observe a 1,000-cluster wave for a commit;
* Resource Graph pacing: a full observe of all 5,000 clusters with the emulator enforcing a
  per-user quota (15 queries per 5 s, as Azure's documented example), and how many 429s the
  gateway drew (target: none, because it paces on the quota headers);
* writes: sustained apply throughput with the emulator enforcing ARM's write bucket
  (200 burst, 10/s) and the gateway's own bucket at its defaults (ARM's: 10/s, burst 200,
  following ARM's remaining-writes count); the share of the allowed rate reached after the
  burst (target ≥ 95%), and the 429s (target: none).

Run: .venv/bin/python -m bench.fleet_gateway [--writes 400]
"""

import argparse
import copy
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any

import requests

from bench.figures import Figure, Size, at_least, at_most, show
from bench.stack import emulator_process, fleet_5000, scenario_file
from shared.adapters import fleet as fleet_module
from shared.adapters.fleet import FleetGateway
from shared.desired import desired_configuration
from shared.errors import ArcwaveError, Throttled
from shared.settings import CredentialKind, Settings, StoreSettings
from shared.trackspec import FleetSelection, validate_track_spec

BENCH = "fleet_gateway"
SUB = "00000000-0000-0000-0000-000000000001"
HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
ARM_WRITES_PER_SECOND = 10
SUSTAINED_TARGET = 95.0
SIZES = {
    Size.FULL: {"scale": 1.0, "rounds": 5, "writes": 400, "bucket": 200},
    Size.SMOKE: {"scale": 0.04, "rounds": 1, "writes": 30, "bucket": 10},
}


def gateway(endpoint: str, cert: Path, tmp: Path, **values: Any) -> FleetGateway:
    return FleetGateway(
        Settings(
            arm_endpoint=endpoint,
            arm_ca_bundle=cert,
            credential=CredentialKind.EMULATOR,
            store=StoreSettings(kind="sqlite", sqlite_path=tmp / "unused.db"),
            **values,
        )
    )


def timed(label: str, rounds: int, work: Callable[[], Sized]) -> Figure:
    """The median of `rounds` runs of `work`, in ms."""
    samples = []
    rows = 0
    for _ in range(rounds):
        start = time.perf_counter()
        rows = len(work())
        samples.append(time.perf_counter() - start)
    note = f"{rows:,} rows, min {min(samples) * 1000:.1f} ms"
    return Figure(BENCH, f"{label} (median)", statistics.median(samples) * 1000, "ms", note=note)


def spec() -> object:
    return validate_track_spec(
        {
            "name": "bench",
            "source": {"url": "https://github.com/contoso/fleet", "branch": "main"},
            "configuration": {"name": "bench", "kustomizations": {"infra": {}}},
            "fleet": {"subscriptions": [SUB]},
            "waves": [{"name": "all"}],
        }
    )


def reads(tmp: Path, scenario: dict[str, Any], rounds: int) -> list[Figure]:
    with emulator_process(scenario_file(scenario, tmp, "reads.yaml")) as running:
        fleet = gateway(running.endpoint, running.cert_path, tmp)
        everything = FleetSelection(subscriptions=[SUB])
        clusters = fleet.discover(everything)
        broad = FleetSelection(subscriptions=[SUB], tags={"ring": "broad"})
        wave = [c.id for c in clusters if c.tags.get("ring") == "broad"][:1000]
        return [
            timed(
                f"discovery, {len(clusters):,} clusters", rounds, lambda: fleet.discover(everything)
            ),
            timed("discovery, tag selection ring=broad", rounds, lambda: fleet.discover(broad)),
            timed(
                f"bulk health, a {len(wave):,}-cluster wave",
                rounds,
                lambda: fleet.observe(HEAD, "bench", wave),
            ),
        ]


def paced(tmp: Path, scenario: dict[str, Any]) -> list[Figure]:
    scenario = copy.deepcopy(scenario)
    scenario["faults"]["throttle"] = {
        "resourceGraph": {"queries": 15, "windowSeconds": 5},
        "reads": {"bucket": 250, "refillPerSecond": 25},
        "writes": {"bucket": 200, "refillPerSecond": ARM_WRITES_PER_SECOND},
    }
    path = scenario_file(scenario, tmp, "quota.yaml")
    throttled = 0
    original = fleet_module.map_arm_error

    def counting(error: Exception, doing: str) -> ArcwaveError:
        nonlocal throttled
        mapped = original(error, doing)
        throttled += isinstance(mapped, Throttled)
        return mapped

    fleet_module.map_arm_error = counting
    try:
        with emulator_process(path) as running:
            fleet = gateway(running.endpoint, running.cert_path, tmp)
            everything = [c.id for c in fleet.discover(FleetSelection(subscriptions=[SUB]))]
            throttled = 0
            start = time.perf_counter()
            health = fleet.observe(HEAD, "bench", everything)
            elapsed = time.perf_counter() - start
    finally:
        fleet_module.map_arm_error = original
    queries = 2 * -(-len(everything) // 200)
    return [
        Figure(
            BENCH,
            f"paced observe of {len(health):,} clusters under 15 queries per 5 s",
            elapsed,
            "s",
            note=f"{queries} queries",
        ),
        Figure(BENCH, "paced observe: Resource Graph 429s drawn", float(throttled), "", at_most(0)),
    ]


def writes(tmp: Path, scenario: dict[str, Any], count: int, bucket: int) -> list[Figure]:
    """`count` writes in batches of 50, ARM's bucket (and the gateway's) `bucket` at once,
    then 10/s."""
    scenario = copy.deepcopy(scenario)
    scenario["faults"]["throttle"] = {
        "writes": {"bucket": bucket, "refillPerSecond": ARM_WRITES_PER_SECOND},
        "reads": {"bucket": 250, "refillPerSecond": 25},
    }
    scenario["arm"]["operationSeconds"] = 0.01
    with emulator_process(scenario_file(scenario, tmp, "throttled.yaml")) as running:
        fleet = gateway(
            running.endpoint,
            running.cert_path,
            tmp,
            arm_write_burst=bucket,
            arm_writes_per_second=ARM_WRITES_PER_SECOND,
        )
        ids = [
            f"/subscriptions/{SUB}/resourceGroups/rg-fleet/providers/"
            f"Microsoft.Kubernetes/connectedClusters/store-{i:04d}"
            for i in range(1, count + 1)
        ]
        body = desired_configuration(spec(), HEAD)  # type: ignore[arg-type]
        start = time.perf_counter()
        for chunk in range(0, len(ids), 50):
            for outcome in fleet.write_many(ids[chunk : chunk + 50], "bench", body):
                assert outcome.ok, outcome.message
        elapsed = time.perf_counter() - start
        log = requests.get(
            f"{running.endpoint}/_emulator/writes", verify=str(running.cert_path), timeout=60
        ).json()
    statuses = Counter(w["status"] for w in log)
    # The gateway spends its burst at once, then writes at its refill rate.
    sustained = (count - bucket) / elapsed
    return [
        Figure(
            BENCH,
            f"{count:,} writes under ARM's bucket: sustained after the burst",
            100 * sustained / ARM_WRITES_PER_SECOND,
            f"% of {ARM_WRITES_PER_SECOND}/s",
            at_least(SUSTAINED_TARGET),
            f"{sustained:.2f} writes/s, {count:,} in {elapsed:.1f} s",
        ),
        Figure(BENCH, f"{count:,} writes: write 429s", float(statuses.get(429, 0)), "", at_most(0)),
    ]


def figures(size: Size = Size.FULL) -> list[Figure]:
    config = SIZES[size]
    return measure(
        config["scale"], int(config["rounds"]), int(config["writes"]), int(config["bucket"])
    )


def measure(scale: float, rounds: int, count: int, bucket: int) -> list[Figure]:
    scenario = fleet_5000(scale)
    with tempfile.TemporaryDirectory(prefix="arcwave-bench-gateway-") as tmp:
        folder = Path(tmp)
        return [
            *reads(folder, scenario, rounds),
            *paced(folder, scenario),
            *writes(folder, scenario, count, bucket),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400, help="writes for the throughput run")
    args = parser.parse_args()
    show("custom", measure(1.0, int(SIZES[Size.FULL]["rounds"]), args.writes, 200))


if __name__ == "__main__":
    main()
