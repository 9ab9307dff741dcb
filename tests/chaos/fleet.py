"""The fleet and the track of a chaos run: four rings over ten sites, four waves with their
in-flight windows, and the commits a run pushes (a bad one fails health on part of `mid`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

SUB = "00000000-0000-0000-0000-000000000001"
TRACK = "baseline"
SITES = 10
RINGS = (("canary", 0.05), ("early", 0.20), ("mid", 0.35), ("broad", 0.40))
"""Each ring's share of the fleet: 10, 40, 70 and 80 clusters of 200."""
FAILING_SITES = ("site-1", "site-2", "site-3", "site-4")
"""Where a bad commit fails health: the `mid` clusters of four sites out of ten, far more than
the wave's budget of 2 (so offline flaps, which skip clusters, cannot hide the failure)."""
BAD_PREFIX = "bad"
RECONCILE = {"min": 0.3, "max": 1.5}


@dataclass(frozen=True)
class Fleet:
    """The clusters of a run, by ring (names in creation order)."""

    rings: dict[str, list[str]]

    @classmethod
    def of_size(cls, clusters: int) -> Fleet:
        counts = [max(1, round(clusters * share)) for _, share in RINGS]
        counts[-1] = clusters - sum(counts[:-1])
        return cls(
            {
                ring: [f"{ring}-{i:03d}" for i in range(1, n + 1)]
                for (ring, _), n in zip(RINGS, counts, strict=True)
            }
        )

    @property
    def names(self) -> list[str]:
        return [name for ring in self.rings.values() for name in ring]

    def wave_of(self, name: str) -> str:
        return name.rsplit("-", 1)[0]

    def site_of(self, name: str) -> str:
        """The site the scenario's `generate` gives cluster i of a ring (round-robin)."""
        index = int(name.rsplit("-", 1)[1])
        return f"site-{(index - 1) % SITES + 1}"

    def fails_on(self, name: str, revision: str) -> bool:
        bad = revision.startswith(BAD_PREFIX)
        return bad and self.wave_of(name) == "mid" and self.site_of(name) in FAILING_SITES


def scenario(fleet: Fleet, seed: int) -> dict[str, Any]:
    """The emulator's scenario: the fleet, Flux reconciling in 0.3-1.5 s, ARM's own throttling
    buckets, and the failure rule of bad commits."""
    return {
        "subscriptionId": SUB,
        "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
        "clusters": [
            {
                "generate": {
                    "count": len(names),
                    "name": f"{ring}-{{i:03d}}",
                    "sites": SITES,
                    "tags": {"ring": ring},
                }
            }
            for ring, names in fleet.rings.items()
        ],
        "flux": {
            "branchHeads": {"main": "0" * 39 + "1"},
            "reconcileSeconds": RECONCILE,
            "failures": [
                {
                    "commit": BAD_PREFIX,
                    "clusters": {"ring": "mid", "site": site},
                    "reason": "HealthCheckFailed",
                }
                for site in FAILING_SITES
            ],
        },
        "faults": {"throttle": NORMAL_THROTTLE, "seed": seed},
        "arm": {"operationSeconds": 0.05},
        "seed": seed,
    }


NORMAL_THROTTLE: dict[str, Any] = {
    "writes": {"bucket": 200, "refillPerSecond": 10},
    "reads": {"bucket": 250, "refillPerSecond": 25},
    "deletes": {"bucket": 200, "refillPerSecond": 10},
}
"""ARM's own buckets (docs/emulator.md), on for the whole run."""
STORM_THROTTLE: dict[str, Any] = {
    "writes": {"bucket": 2, "refillPerSecond": 0.5},
    "reads": {"bucket": 3, "refillPerSecond": 1},
    "deletes": {"bucket": 2, "refillPerSecond": 0.5},
    "resourceGraph": {"queries": 1, "windowSeconds": 4},
}
"""A 429 storm: almost every ARM call and Resource Graph query is throttled."""


def track_spec() -> dict[str, Any]:
    """Four waves, each with its window; `offline: skip`, so a flapping cluster is left for
    catch-up rather than failed; a progress deadline far beyond any injected fault."""
    return {
        "name": TRACK,
        "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
        "configuration": {"name": TRACK, "kustomizations": {"infra": {"path": "./infra"}}},
        "fleet": {"subscriptions": [SUB]},
        "waves": [
            {
                "name": "canary",
                "selector": {"ring": "canary"},
                "maxConcurrency": 5,
                "maxFailures": 0,
                "soak": "2s",
            },
            {
                "name": "early",
                "selector": {"ring": "early"},
                "maxConcurrency": 10,
                "maxFailures": 1,
            },
            {
                "name": "mid",
                "selector": {"ring": "mid"},
                "maxConcurrency": 20,
                "perSiteConcurrency": 3,
                "maxFailures": 2,
            },
            {
                "name": "broad",
                "selector": {"ring": "broad"},
                "maxConcurrency": 40,
                "perSiteConcurrency": 6,
                "maxFailures": "5%",
            },
        ],
        "progressDeadline": "10m",
        "offline": "skip",
        "onFailure": "rollback",
    }


WAVES = ("canary", "early", "mid", "broad")


def caps() -> dict[str, tuple[int, int | None]]:
    """Each wave's window from the track spec: (maxConcurrency, perSiteConcurrency)."""
    return {
        w["name"]: (int(w["maxConcurrency"]), w.get("perSiteConcurrency"))
        for w in track_spec()["waves"]
    }


def commit(rng: random.Random, *, bad: bool) -> str:
    """A fresh 40-hex commit; a bad one starts with `bad` (the emulator fails it on part of
    `mid`), a good one never does."""
    while True:
        sha = f"{rng.getrandbits(160):040x}"
        if bad:
            return BAD_PREFIX + sha[3:]
        if not sha.startswith(BAD_PREFIX):
            return sha
