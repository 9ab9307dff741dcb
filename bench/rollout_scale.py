"""Rollouts at fleet scale, from a signed Git push to the rollout's end, against the physical
limit (bench/ideal.py).

The emulator enforces ARM's write bucket per subscription (200 at once, then 10/s) and
Resource Graph's quota (15 queries per 5 s, as Azure documents it), and Flux reconciles each
cluster 0.8-1.2 s after its write is provisioned (0.05 s); devhost runs the app with the
gateway's bucket as ARM's and a 1 s poll. Two fleets (full size):

* 1,000 clusters in one subscription, 4 waves (10, 90, 300, 600; windows of all, 50, 100,
  200): wall ≤ 1.05 x the ideal;
* 10,000 clusters over 5 subscriptions, the same waves x10: wall ≤ 1.10 x the ideal, devhost's
  peak memory ≤ 500 MB.

Figures per fleet: wall / ideal (the wall from the push's send to the rollout recorded
`Succeeded`; the ideal from the plan as stored: each wave's clusters per subscription and its
window), the most history events of any orchestration instance (≤ 2,000), the sustained write
rate after each subscription's burst as a share of ARM's refill (≥ 95%), write 429s and
Resource Graph 429s as the emulator counted them (0 each), and devhost's peak resident memory.

    .venv/bin/python -m bench.rollout_scale [--size smoke]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.figures import Figure, Size, at_least, at_most, show
from bench.ideal import IdealWave, ideal_seconds
from bench.pushes import BASE, REPO, commit, github_push, signed
from bench.stack import Stack, local_stack
from shared.eta import WriteBudget
from shared.forecast import subscription_of
from shared.states import RolloutState

BENCH = "rollout_scale"
SECRET = "bench-webhook-secret-rollout-scale"
HISTORY_TARGET = 2000
GRAPH_QUERIES, GRAPH_WINDOW = 15, 5
"""Resource Graph's per-user quota, as Azure documents its default: 15 queries per 5 s."""
SUSTAINED_TARGET = 95.0


@dataclass(frozen=True)
class Shape:
    """A fleet and its track: waves by ring (name, clusters, window; None: the whole wave),
    spread evenly over `subscriptions`, and what ARM and Flux allow."""

    subscriptions: int
    rings: tuple[tuple[str, int, int | None], ...]
    ratio_target: float
    bucket: int = 200
    refill: float = 10.0
    reconcile: tuple[float, float] = (0.8, 1.2)
    operation_seconds: float = 0.05
    poll_seconds: float = 1.0
    memory_target: float | None = None
    """MB of devhost's peak resident memory, when the acceptance names one."""

    @property
    def clusters(self) -> int:
        return sum(n for _, n, _ in self.rings)

    @property
    def label(self) -> str:
        subs = "one subscription" if self.subscriptions == 1 else f"{self.subscriptions} subs"
        return f"{self.clusters:,} clusters, {subs}"

    @property
    def slowest(self) -> float:
        """The longest a cluster takes from its write to Healthy, at the emulator's settings."""
        return self.operation_seconds + self.reconcile[1]

    def subscription(self, n: int) -> str:
        return f"00000000-0000-0000-0000-{n + 1:012d}"


ONE_SUBSCRIPTION = Shape(
    subscriptions=1,
    rings=(("canary", 10, None), ("early", 90, 50), ("mid", 300, 100), ("broad", 600, 200)),
    ratio_target=1.05,
)
FIVE_SUBSCRIPTIONS = Shape(
    subscriptions=5,
    rings=(("canary", 100, None), ("early", 900, 500), ("mid", 3000, 1000), ("broad", 6000, 2000)),
    ratio_target=1.10,
    memory_target=500.0,
)
SMOKE = Shape(
    subscriptions=2,
    rings=(("canary", 2, None), ("early", 6, 3), ("broad", 16, 8)),
    ratio_target=1.05,
    bucket=4,
    reconcile=(0.05, 0.1),
    operation_seconds=0.01,
    poll_seconds=0.2,
)
SHAPES = {Size.FULL: (ONE_SUBSCRIPTION, FIVE_SUBSCRIPTIONS), Size.SMOKE: (SMOKE,)}


def scenario(shape: Shape) -> dict[str, Any]:
    """The fleet: each ring's clusters dealt round-robin over the subscriptions, 20 sites."""
    clusters = [
        {
            "name": f"{ring}-{n:05d}",
            "subscriptionId": shape.subscription(n % shape.subscriptions),
            "tags": {"ring": ring, "site": f"site-{n % 20 + 1}"},
        }
        for ring, count, _ in shape.rings
        for n in range(count)
    ]
    limits = {"bucket": shape.bucket, "refillPerSecond": shape.refill}
    return {
        "subscriptionId": shape.subscription(0),
        "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
        "clusters": clusters,
        "flux": {
            "branchHeads": {"main": BASE},
            "reconcileSeconds": {"min": shape.reconcile[0], "max": shape.reconcile[1]},
        },
        "faults": {
            "throttle": {
                "writes": limits,
                "deletes": limits,
                "reads": {"bucket": 250, "refillPerSecond": 25},
                "resourceGraph": {"queries": GRAPH_QUERIES, "windowSeconds": GRAPH_WINDOW},
            }
        },
        "arm": {"operationSeconds": shape.operation_seconds},
    }


def track(shape: Shape) -> dict[str, Any]:
    waves: list[dict[str, Any]] = []
    for ring, _, window in shape.rings:
        wave: dict[str, Any] = {"name": ring, "selector": {"ring": ring}}
        if window is not None:
            wave["maxConcurrency"] = window
        waves.append(wave)
    return {
        "name": "bench",
        "source": {"url": REPO, "branch": "main"},
        "configuration": {"name": "bench", "kustomizations": {"infra": {"path": "./infra"}}},
        "fleet": {"subscriptions": [shape.subscription(n) for n in range(shape.subscriptions)]},
        "waves": waves,
        "progressDeadline": "10m",
    }


def figures(size: Size = Size.FULL) -> list[Figure]:
    """Every fleet of `size`, one stack each."""
    return [figure for shape in SHAPES[size] for figure in measure(shape)]


def measure(shape: Shape) -> list[Figure]:
    env = {
        "ARCWAVE_WEBHOOK_SECRET": SECRET,
        "ARCWAVE_POLL_SECONDS": f"{shape.poll_seconds:g}",
        "ARCWAVE_ARM_WRITE_BURST": str(shape.bucket),
        "ARCWAVE_ARM_WRITES_PER_SECOND": f"{shape.refill:g}",
    }
    with local_stack(scenario(shape), env=env, prefix="arcwave-bench-scale-") as stack:
        code, answer = stack.api("PUT", "tracks/bench", track(shape))
        if code != 201:
            raise RuntimeError(f"registering the track answered {code}: {answer}")
        rollout_id, wall = _rollout(stack, shape)
        return _figures(stack, shape, rollout_id, wall)


def _rollout(stack: Stack, shape: Shape) -> tuple[str, float]:
    """Push a new commit: its rollout, and the seconds from the push's send to the
    rollout's recorded end."""
    sha = commit(f"rollout-scale-{shape.clusters}")
    body = github_push(REPO, sha, BASE, int(time.time()))
    sent = time.time()
    code, answer = stack.host.request(
        "POST", "/api/hooks/github", raw=body, headers=signed(SECRET, body, "bench-scale")
    )
    if code != 202:
        raise RuntimeError(f"the push answered {code}: {answer}")
    rollout_id = answer["tracks"][0]["rolloutId"]
    records = stack.records()
    allowed = 3 * _estimate(shape) + 300
    while time.time() - sent < allowed:
        rollout = records.rollouts.find("bench", rollout_id)
        if rollout is not None and rollout.state.is_terminal:
            if rollout.state is not RolloutState.SUCCEEDED:
                raise RuntimeError(f"the rollout ended {rollout.state.value}: {rollout.message}")
            return rollout_id, rollout.updated_at.timestamp() - sent
        time.sleep(0.2)
    raise TimeoutError(f"the rollout did not end within {allowed:.0f}s")


def _estimate(shape: Shape) -> float:
    """The ideal from the shape alone (the wait's bound, before the plan is known)."""
    per_sub = {shape.subscription(n): 0 for n in range(shape.subscriptions)}
    waves = [
        IdealWave(ring, dict.fromkeys(per_sub, -(-count // shape.subscriptions)), shape.slowest, w)
        for ring, count, w in shape.rings
    ]
    return ideal_seconds(waves, WriteBudget(shape.bucket, shape.refill))


def ideal_of(stack: Stack, shape: Shape, rollout_id: str) -> float:
    """The physical ideal of the rollout as planned: each wave's clusters per subscription
    (from the store) and its window (the stored plan)."""
    records = stack.records()
    rollout = records.rollouts.get("bench", rollout_id)
    per_wave: dict[str, Counter[str]] = defaultdict(Counter)
    for cluster in records.clusters.list("bench", rollout=rollout_id):
        if cluster.wave is not None:
            per_wave[cluster.wave][subscription_of(cluster.cluster_id)] += 1
    waves = [
        IdealWave(w.name, dict(per_wave[w.name]), shape.slowest, w.max_in_flight or None)
        for w in rollout.plan
    ]
    return ideal_seconds(waves, WriteBudget(shape.bucket, shape.refill))


def _figures(stack: Stack, shape: Shape, rollout_id: str, wall: float) -> list[Figure]:
    ideal = ideal_of(stack, shape, rollout_id)
    history = stack.history_counts()
    log = [w for w in stack.writes() if w["configuration"] == "bench"]
    statuses = Counter(w["status"] for w in log)
    throttled = stack.control.throttled()
    sustained = _sustained(log, shape)
    label = shape.label
    return [
        Figure(
            BENCH,
            f"{label}: wall / physical ideal (push → Succeeded)",
            wall / ideal,
            "x",
            at_most(shape.ratio_target),
            f"{wall:.1f} s / {ideal:.1f} s",
        ),
        Figure(
            BENCH,
            f"{label}: history events per instance (most)",
            float(max(history.values(), default=0)),
            "events",
            at_most(HISTORY_TARGET),
            _history_note(history),
        ),
        Figure(
            BENCH,
            f"{label}: sustained writes after the burst",
            sustained,
            f"% of {shape.subscriptions} x {shape.refill:g}/s",
            at_least(SUSTAINED_TARGET),
        ),
        Figure(BENCH, f"{label}: write 429s", float(statuses.get(429, 0)), "", at_most(0)),
        Figure(
            BENCH,
            f"{label}: Resource Graph 429s",
            float(throttled["resourceGraph"]),
            "",
            at_most(0),
            f"under {GRAPH_QUERIES} queries per {GRAPH_WINDOW} s",
        ),
        Figure(
            BENCH,
            f"{label}: devhost peak memory",
            stack.peak_rss_mb(),
            "MB",
            at_most(shape.memory_target) if shape.memory_target else None,
        ),
    ]


def _sustained(log: list[dict[str, Any]], shape: Shape) -> float:
    """Per subscription: its writes after the burst over the span from its first write to its
    last, summed, as a share of every subscription's refill."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for write in log:
        if write["status"] in (200, 201):
            when = datetime.fromisoformat(write["time"].replace("Z", "+00:00"))
            times[subscription_of(write["clusterId"])].append(when)
    rate = 0.0
    for written in times.values():
        span = (max(written) - min(written)).total_seconds()
        if span > 0 and len(written) > shape.bucket:
            rate += (len(written) - shape.bucket) / span
    return 100 * rate / (shape.subscriptions * shape.refill)


def _history_note(history: dict[str, int]) -> str:
    """`rollout 68, waves 24-40, track 3`: instances by kind (`track:<name>`, the rollout's
    id, `<rollout>:<wave>`)."""
    kinds: dict[str, list[int]] = defaultdict(list)
    for instance, count in history.items():
        kind = (
            "track" if instance.startswith("track:") else "waves" if ":" in instance else "rollout"
        )
        kinds[kind].append(count)
    parts = []
    for kind, counts in sorted(kinds.items()):
        low, high = min(counts), max(counts)
        parts.append(f"{kind} {low}" if low == high else f"{kind} {low}-{high}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=Size, choices=list(Size), default=Size.FULL)
    args = parser.parse_args()
    show(args.size, figures(args.size))


if __name__ == "__main__":
    main()
