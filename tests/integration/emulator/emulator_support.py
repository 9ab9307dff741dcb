"""Shared constants and the scenario the emulator integration tests run against."""

from __future__ import annotations

from typing import Any

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
CLUSTER_ARGS = ("rg-fleet", "Microsoft.Kubernetes", "connectedClusters")


def fleet_scenario(**overrides: Any) -> dict[str, Any]:
    """130 clusters (enough to page), tiny delays so the suite stays fast."""
    scenario: dict[str, Any] = {
        "subscriptionId": SUBSCRIPTION,
        "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
        "clusters": [
            {"name": "canary-1", "tags": {"ring": "canary", "site": "site-1"}},
            {"name": "canary-2", "tags": {"ring": "canary", "site": "site-2"}},
            {
                "generate": {
                    "count": 128,
                    "name": "store-{i:03d}",
                    "sites": 4,
                    "tags": {"ring": "broad"},
                }
            },
        ],
        "flux": {
            "branchHeads": {"main": HEAD},
            "reconcileSeconds": {"min": 0.01, "max": 0.05},
            "failures": [{"commit": "bad0", "clusters": "*", "reason": "HealthCheckFailed"}],
        },
        "faults": {"offline": ["store-007"]},
        "arm": {"operationSeconds": 0.02},
    }
    scenario.update(overrides)
    return scenario
