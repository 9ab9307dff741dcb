"""The fleet gateway at fleet scale, against the emulator in its own process.

Reports (it asserts nothing):
* discovery: time to list the 5,000 clusters of scenarios/fleet-5000.yaml through Resource
  Graph ($skipToken paging), and the same with a tag selection;
* bulk health: time to observe a 1,000-cluster wave for a commit;
* Resource Graph pacing: a full observe of all 5,000 clusters with the emulator enforcing a
  per-user quota (15 queries per 5 s, as Azure's documented example), and how many 429s the
  gateway drew (target: none, because it paces on the quota headers);
* writes: sustained apply throughput with the emulator enforcing ARM's write bucket
  (200 burst, 10/s) and the gateway's own bucket at its defaults (10/s, burst 100); the
  share of the allowed rate reached after the burst, and the share of 429s.

Run: .venv/bin/python bench/fleet_gateway.py [--writes 400]
"""

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
import yaml
from emulator_process import ROOT, emulator_process

from shared.adapters import fleet as fleet_module
from shared.adapters.fleet import FleetGateway
from shared.desired import desired_configuration
from shared.errors import ArcwaveError, Throttled
from shared.settings import CredentialKind, Settings, StoreSettings
from shared.trackspec import FleetSelection, validate_track_spec

SUB = "00000000-0000-0000-0000-000000000001"
HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
ARM_WRITES_PER_SECOND = 10


def gateway(endpoint: str, cert: Path, tmp: Path) -> FleetGateway:
    return FleetGateway(
        Settings(
            arm_endpoint=endpoint,
            arm_ca_bundle=cert,
            credential=CredentialKind.EMULATOR,
            store=StoreSettings(kind="sqlite", sqlite_path=tmp / "unused.db"),
        )
    )


def timed(label: str, rounds: int, work: "object") -> None:
    samples = []
    result = None
    for _ in range(rounds):
        start = time.perf_counter()
        result = work()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    size = len(result) if hasattr(result, "__len__") else result
    print(
        f"{label:<44} {size!s:>6} rows  median {statistics.median(samples) * 1000:8.1f} ms"
        f"  min {min(samples) * 1000:8.1f} ms"
    )


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


def reads(tmp: Path) -> None:
    with emulator_process(ROOT / "scenarios/fleet-5000.yaml") as running:
        fleet = gateway(running.endpoint, running.cert_path, tmp)
        everything = FleetSelection(subscriptions=[SUB])
        timed("discovery, 5,000 clusters", 5, lambda: fleet.discover(everything))
        broad = FleetSelection(subscriptions=[SUB], tags={"ring": "broad"})
        timed("discovery, tag ring=broad (4,500)", 5, lambda: fleet.discover(broad))
        wave = [c.id for c in fleet.discover(everything) if c.tags.get("ring") == "broad"][:1000]
        timed("bulk health, 1,000-cluster wave", 5, lambda: fleet.observe(HEAD, "bench", wave))


def paced(tmp: Path) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios/fleet-5000.yaml").read_text())
    scenario["faults"]["throttle"] = {
        "resourceGraph": {"queries": 15, "windowSeconds": 5},
        "reads": {"bucket": 250, "refillPerSecond": 25},
        "writes": {"bucket": 200, "refillPerSecond": ARM_WRITES_PER_SECOND},
    }
    path = tmp / "quota.yaml"
    path.write_text(yaml.safe_dump(scenario))
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
    print(
        f"paced observe, {len(health)} clusters: {queries} queries in {elapsed:.1f}s under "
        f"15 per 5 s; 429s drawn: {throttled}"
    )


def writes(tmp: Path, count: int) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios/fleet-5000.yaml").read_text())
    scenario["faults"]["throttle"] = {
        "writes": {"bucket": 200, "refillPerSecond": ARM_WRITES_PER_SECOND},
        "reads": {"bucket": 250, "refillPerSecond": 25},
    }
    scenario["arm"]["operationSeconds"] = 0.01
    path = tmp / "throttled.yaml"
    path.write_text(yaml.safe_dump(scenario))
    with emulator_process(path) as running:
        fleet = gateway(running.endpoint, running.cert_path, tmp)
        burst = fleet._buckets[SUB].burst  # the gateway's own head start
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
    sustained = (count - burst) / elapsed
    throttled = statuses.get(429, 0) / max(sum(statuses.values()), 1)
    print(f"writes: {count} applied in {elapsed:.1f}s; statuses {dict(statuses)}")
    print(
        f"sustained after the burst: {sustained:.2f} writes/s = "
        f"{sustained / ARM_WRITES_PER_SECOND:.1%} of ARM's {ARM_WRITES_PER_SECOND}/s; "
        f"429s: {throttled:.2%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400, help="writes for the throughput run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reads(Path(tmp))
        paced(Path(tmp))
        writes(Path(tmp), args.writes)


if __name__ == "__main__":
    main()
