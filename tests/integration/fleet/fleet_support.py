"""Constants and scenario of the fleet gateway integration tests."""

from pathlib import Path
from typing import Any

from emulator.testing import Emulator
from shared.settings import CredentialKind, Settings, StoreSettings

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
HEAD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
OLDER = "0ba6f0d30760d567de0bac86c8c4eec13ce1a590"
BAD = "bad0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"


def cluster_id(name: str, group: str = "rg-fleet") -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


def scenario(stores: int = 1200, **overrides: Any) -> dict[str, Any]:
    """A large fleet in rg-fleet, a few clusters that selections must leave out."""
    data: dict[str, Any] = {
        "subscriptionId": SUBSCRIPTION,
        "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
        "clusters": [
            {"name": "canary-1", "tags": {"ring": "canary", "site": "site-1", "env": "prod"}},
            {"name": "canary-2", "tags": {"ring": "canary", "site": "site-2", "env": "prod"}},
            {"name": "dev-1", "tags": {"ring": "canary", "env": "dev"}},
            {"name": "lab-1", "resourceGroup": "rg-lab", "tags": {"env": "prod"}},
            {
                "generate": {
                    "count": stores,
                    "name": "store-{i:04d}",
                    "sites": 10,
                    "tags": {"ring": "broad", "env": "prod"},
                }
            },
        ],
        "flux": {
            "branchHeads": {"main": HEAD},
            "reconcileSeconds": {"min": 0.01, "max": 0.05},
            "failures": [{"commit": "bad0", "clusters": "canary-*", "reason": "HealthCheckFailed"}],
        },
        "faults": {"offline": ["store-0007"]},
        "arm": {"operationSeconds": 0.01},
    }
    data.update(overrides)
    return data


def settings_for(emulator: Emulator, tmp: Path, **values: Any) -> Settings:
    return Settings(
        arm_endpoint=emulator.endpoint,
        arm_ca_bundle=emulator.cert_path,
        credential=CredentialKind.EMULATOR,
        store=StoreSettings(kind="sqlite", sqlite_path=tmp / "arcwave.db"),
        **values,
    )
