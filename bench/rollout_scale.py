"""A rollout at fleet scale: 1,000 clusters in 4 waves, ~1 s reconcile, no soak, ARM's write
bucket enforced by the emulator (200 burst, 10 writes/s).

Reports (it asserts nothing):
* wall time against the ideal: for each wave, the time its writes need under the write
  budget (tokens carry over between waves, the gateway's burst of 100 included) plus the
  slowest reconcile, summed over waves; and the ratio (target ≤ 1.2);
* history events per orchestration instance (target ≤ 2,000);
* sustained write rate after the burst against ARM's 10/s, and the share of 429s.

Run: .venv/bin/python bench/rollout_scale.py
"""

import json
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
import yaml
from emulator_process import ROOT, emulator_process

from devhost.testing import DevHost
from shared.settings import StoreSettings
from shared.states import RolloutState
from shared.store import Records, TrackRecord, open_store
from shared.times import utc_now
from shared.trackspec import validate_track_spec

SUB = "00000000-0000-0000-0000-000000000001"
HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
RINGS = {"canary": 10, "early": 90, "mid": 300, "broad": 600}
RATE, BURST, RECONCILE_MAX = 10.0, 100, 1.2

SCENARIO = {
    "subscriptionId": SUB,
    "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
    "clusters": [
        {"generate": {"count": n, "name": f"{ring}-{{i:04d}}", "sites": 20, "tags": {"ring": ring}}}
        for ring, n in RINGS.items()
    ],
    "flux": {"branchHeads": {"main": HEAD}, "reconcileSeconds": {"min": 0.8, "max": RECONCILE_MAX}},
    "faults": {
        "throttle": {
            "writes": {"bucket": 200, "refillPerSecond": 10},
            "reads": {"bucket": 250, "refillPerSecond": 25},
        }
    },
    "arm": {"operationSeconds": 0.05},
}

TRACK = {
    "name": "bench",
    "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
    "configuration": {"name": "bench", "kustomizations": {"infra": {"path": "./infra"}}},
    "fleet": {"subscriptions": [SUB]},
    "waves": [
        {"name": "canary", "selector": {"ring": "canary"}},
        {"name": "early", "selector": {"ring": "early"}, "maxConcurrency": 50},
        {"name": "mid", "selector": {"ring": "mid"}, "maxConcurrency": 100},
        {"name": "broad", "maxConcurrency": 200},
    ],
    "progressDeadline": "10m",
}


def ideal_seconds() -> float:
    """Writes under a token bucket (burst carried over) plus the slowest reconcile, per wave."""
    tokens, total = float(BURST), 0.0
    for count in RINGS.values():
        from_burst = min(tokens, count)
        wait = (count - from_burst) / RATE
        tokens = tokens - from_burst + (wait + RECONCILE_MAX) * RATE
        tokens = min(tokens, BURST)
        total += wait + RECONCILE_MAX
    return total


def history_counts(state_dir: Path) -> list[tuple[str, int]]:
    """Raw history rows per instance from devhost's SQLite state (every event, markers too)."""
    counts: Counter[str] = Counter()
    for db in state_dir.rglob("*.sqlite3"):
        with sqlite3.connect(db) as connection:
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            if "history" in tables:
                query = "SELECT instance_id, count(*) FROM history GROUP BY instance_id"
                counts.update(dict(connection.execute(query).fetchall()))
    return sorted(counts.items())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="arcwave-bench-") as tmp_name:
        tmp = Path(tmp_name)
        scenario = tmp / "fleet.yaml"
        scenario.write_text(yaml.safe_dump(SCENARIO))
        db = tmp / "arcwave.db"
        records = Records(open_store(StoreSettings(kind="sqlite", sqlite_path=db)))
        records.tracks.save(TrackRecord.for_spec(validate_track_spec(TRACK), utc_now()))
        with emulator_process(scenario) as emulator:
            env = {
                "ARCWAVE_TASK_HUB": "bench",
                "ARCWAVE_STORE": f"sqlite:///{db}",
                "ARCWAVE_ARM_ENDPOINT": emulator.endpoint,
                "ARCWAVE_ARM_CA_BUNDLE": str(emulator.cert_path),
                "ARCWAVE_CREDENTIAL": "emulator",
            }
            with DevHost(ROOT, state_dir=tmp / "devhost", env=env) as host:
                run(host, records, emulator.endpoint, emulator.cert_path)


def run(host: DevHost, records: Records, endpoint: str, cert: Path) -> None:
    def durable(method: str, path: str, body: Any = None) -> Any:
        code, answer = host.request(
            method, f"/runtime/webhooks/durabletask/{path}?code={host.function_key}", body
        )
        assert code in (200, 202), (code, answer)
        return answer

    durable("POST", "orchestrators/track_orchestrator/track:bench")
    start = time.monotonic()
    durable(
        "POST",
        "instances/track:bench/raiseEvent/revision",
        {
            "rolloutId": "scale-1",
            "revision": HEAD,
            "trigger": {"kind": "bench", "actor": "bench"},
            "supersede": "queue",
            "timing": {
                "pollSeconds": 1.0,
                "retry": {"firstSeconds": 1.0, "maxIntervalSeconds": 30.0, "horizonSeconds": 600.0},
            },
            "clusters": None,
        },
    )
    while True:
        rollout = records.rollouts.find("bench", "scale-1")
        if rollout is not None and rollout.state.is_terminal:
            break
        time.sleep(0.2)
    wall = time.monotonic() - start
    ideal = ideal_seconds()
    print(f"rollout {rollout.state.value}: {sum(RINGS.values())} clusters in {len(RINGS)} waves")
    print(f"wall {wall:.1f}s, ideal {ideal:.1f}s, ratio {wall / ideal:.2f} (target <= 1.2)")
    print("history events per instance (raw, as stored by devhost's engine):")
    for instance, count in history_counts(host.state_dir):
        print(f"  {instance:<20} {count:>5}")
    log = requests.get(f"{endpoint}/_emulator/writes", verify=str(cert), timeout=60).json()
    statuses = Counter(w["status"] for w in log)
    times = sorted(w["time"] for w in log if w["status"] in (200, 201))
    first, last = (json.loads(json.dumps(t)) for t in (times[0], times[-1]))
    from datetime import datetime

    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    sustained = (len(times) - BURST) / span if span > 0 else float("nan")
    print(
        f"writes: {len(times)} ok, statuses {dict(statuses)}; sustained "
        f"{sustained:.2f}/s after the burst = {sustained / RATE:.1%} of ARM's {RATE:g}/s; "
        f"429s {statuses.get(429, 0) / max(sum(statuses.values()), 1):.2%}"
    )
    assert rollout.state is RolloutState.SUCCEEDED or print(rollout.message) is None


if __name__ == "__main__":
    main()
