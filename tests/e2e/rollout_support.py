"""A running arcwave for scenario tests: the real function app under devhost, the emulator as
Azure, SQLite as the store, and helpers to send revisions and operator commands the way the
triggers do (through the Durable HTTP API)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient as FluxClient,
)

from devhost.testing import DevHost
from emulator.testing import Emulator
from shared.names import wave_instance
from shared.settings import CredentialKind, Settings, StoreSettings
from shared.states import RolloutState
from shared.store import Records, RolloutRecord, TrackRecord, open_store
from shared.times import utc_now
from shared.trackspec import validate_track_spec
from tests.support import eventually, secret, secret_settings

ROOT = Path(__file__).resolve().parents[2]
SUB = "00000000-0000-0000-0000-000000000001"
GOOD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
GOOD2 = "3c8f1d2e5a4b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
GOOD3 = "4d9e2f3a6b5c7d8e9f0a1b2c3d4e5f6a7b8c9d0e"
BAD = "bad0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"


def scenario(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subscriptionId": SUB,
        "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
        "clusters": [
            {"name": "canary-1", "tags": {"ring": "canary", "site": "site-1"}},
            {"name": "canary-2", "tags": {"ring": "canary", "site": "site-2"}},
            {"generate": {"count": 4, "name": "early-{i}", "sites": 2, "tags": {"ring": "early"}}},
            {"generate": {"count": 6, "name": "store-{i}", "sites": 2, "tags": {"ring": "broad"}}},
        ],
        "flux": {
            "branchHeads": {"main": GOOD},
            "reconcileSeconds": {"min": 0.05, "max": 0.3},
            "failures": [{"commit": "bad0", "clusters": "canary-*", "reason": "HealthCheckFailed"}],
        },
        "faults": {},
        "arm": {"operationSeconds": 0.01},
    }
    data.update(overrides)
    return data


def track_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "baseline",
        "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
        "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
        "fleet": {"subscriptions": [SUB]},
        "waves": [
            {"name": "canary", "selector": {"ring": "canary"}},
            {"name": "early", "selector": {"ring": "early"}, "maxConcurrency": 2},
            {"name": "broad", "maxConcurrency": 3, "perSiteConcurrency": 1, "maxFailures": 1},
        ],
        "progressDeadline": "60s",
        "onFailure": "rollback",
    }
    spec.update(overrides)
    return spec


@dataclass
class Stack:
    host: DevHost
    emulator: Emulator
    records: Records
    poll_seconds: float = 0.5
    retry: dict[str, float] = field(
        default_factory=lambda: {
            "firstSeconds": 0.5,
            "maxIntervalSeconds": 2.0,
            "horizonSeconds": 60.0,
        }
    )

    def register(self, **spec: Any) -> None:
        track = validate_track_spec(track_spec(**spec))
        self.records.tracks.save(TrackRecord.for_spec(track, utc_now()))

    def roll(self, revision: str, rollout_id: str, *, clusters: list[str] | None = None) -> None:
        """What a trigger does: make sure the track runs, then send it the revision."""
        track = self.records.tracks.get("baseline").track_spec()
        instance = "track:baseline"
        if self.host.status(instance) is None:
            code, body = self.durable("POST", f"orchestrators/track_orchestrator/{instance}", None)
            assert code == 202, body
        request = {
            "rolloutId": rollout_id,
            "revision": revision,
            "trigger": {"kind": "test", "actor": "pytest"},
            "supersede": track.supersede.value,
            "timing": {"pollSeconds": self.poll_seconds, "retry": self.retry},
            "clusters": clusters,
        }
        code, body = self.durable("POST", f"instances/{instance}/raiseEvent/revision", request)
        assert code == 202, body

    def command(self, rollout_id: str, **control: Any) -> None:
        """What the operator API does: change the control block, then wake the rollout."""

        def change(rollout: RolloutRecord) -> RolloutRecord:
            return rollout.model_copy(
                update={"control": rollout.control.model_copy(update=control)}
            )

        rollout = self.records.rollouts.update("baseline", rollout_id, change)
        targets = [rollout_id]
        running = [w.name for w in rollout.waves if w.state.value not in ("Pending",)]
        targets += [wave_instance(rollout_id, name) for name in running]
        for target in targets:
            self.durable("POST", f"instances/{target}/raiseEvent/control", {"by": "pytest"})

    def durable(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return self.host.request(
            method, f"/runtime/webhooks/durabletask/{path}?code={self.host.function_key}", body
        )

    def rollout(self, rollout_id: str) -> RolloutRecord | None:
        return self.records.rollouts.find("baseline", rollout_id)

    def wait_state(
        self, rollout_id: str, *states: RolloutState, timeout: float = 120.0
    ) -> RolloutRecord:
        def reached() -> RolloutRecord | None:
            found = self.rollout(rollout_id)
            return found if found is not None and found.state in states else None

        return eventually(
            reached,
            timeout=timeout,
            what=f"rollout {rollout_id} in {states}",
            context=lambda: f"rollout: {self.rollout(rollout_id)}\n{self.host.output()[-4000:]}",
        )

    def wave_finished_at(self, rollout_id: str, wave: str) -> datetime:
        for entry in self.records.timeline.list(rollout_id):
            verdict = entry.reason.value in ("WaveSucceeded", "FailureBudgetExceeded")
            if entry.data.get("wave") == wave and verdict:
                return entry.time
        raise AssertionError(f"no verdict for wave {wave} of {rollout_id}")

    def writes(self) -> list[dict[str, Any]]:
        return self.emulator.control.writes()

    def flux_client(self) -> FluxClient:
        """The real fluxConfigurations client against the emulator, as another writer would."""
        return FluxClient(
            self.emulator.credential(),
            SUB,
            base_url=self.emulator.endpoint,
            connection_verify=str(self.emulator.cert_path),
        )


WEBHOOK_SECRET = secret("ARCWAVE_WEBHOOK_SECRET", "webhook-secret-for-tests")
FLUX_KEY = secret("ARCWAVE_FLUX_HMAC_KEY", "flux-key-for-tests")


def github_push(
    commit: str,
    *,
    branch: str = "main",
    previous: str = GOOD,
    files: list[str] | None = None,
    pushed_at: int | None = None,
) -> dict[str, Any]:
    """A GitHub push to the demo repository, shaped as GitHub sends it; `pushed_at` is
    GitHub's own time of the push (epoch seconds)."""
    payload = json.loads((ROOT / "tests/payloads/github-push-new-branch.json").read_text())
    payload.update(
        ref=f"refs/heads/{branch}", before=previous, after=commit, created=False, forced=False
    )
    if pushed_at is not None:
        payload["repository"]["pushed_at"] = pushed_at
    payload["repository"].update(
        clone_url="https://github.com/contoso/fleet-config.git",
        ssh_url="git@github.com:contoso/fleet-config.git",
        html_url="https://github.com/contoso/fleet-config",
        git_url="git://github.com/contoso/fleet-config.git",
    )
    for entry in [*payload["commits"], payload["head_commit"]]:
        entry.update(id=commit, added=files or ["clusters/a.yaml"], removed=[], modified=[])
    return payload


def signed_github(
    body: bytes, delivery: str, *, event: str = "push", secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_stack(
    tmp: Path,
    *,
    env: dict[str, str] | None = None,
    easy_auth: bool = False,
    flux_events: bool = False,
    **scenario_overrides: Any,
) -> Iterator[Stack]:
    """The emulator and devhost serving the app on SQLite; `easy_auth`: devhost acts as App
    Service authentication (`DevHost.token` mints a signed-in caller's token); `flux_events`:
    the emulator's Flux sends its notifications to the app's `/api/flux/events`."""
    db = tmp / "arcwave.db"
    port = 0
    if flux_events:
        port = free_port()
        url = f"http://127.0.0.1:{port}/api/flux/events"
        scenario_overrides["events"] = {"flux": {"url": url, "hmacKey": FLUX_KEY}}
    vault = scenario_overrides.get("keyVault", {}).get("secrets", {})
    for name, value in vault.items():
        secret(f"Key Vault secret {name}", value)
    with Emulator(scenario(**scenario_overrides), tls_dir=tmp / "tls") as emulator:
        settings = Settings(
            arm_endpoint=emulator.endpoint,
            arm_ca_bundle=emulator.cert_path,
            credential=CredentialKind.EMULATOR,
            store=StoreSettings(kind="sqlite", sqlite_path=db),
        )
        records = Records(open_store(settings))
        settings_env = secret_settings(
            {
                "ARCWAVE_TASK_HUB": "arcwave",
                "ARCWAVE_STORE": f"sqlite:///{db}",
                "ARCWAVE_ARM_ENDPOINT": emulator.endpoint,
                "ARCWAVE_ARM_CA_BUNDLE": str(emulator.cert_path),
                "ARCWAVE_CREDENTIAL": "emulator",
                "ARCWAVE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "ARCWAVE_FLUX_HMAC_KEY": FLUX_KEY,
                "ARCWAVE_POLL_SECONDS": "0.5",
                "ARCWAVE_KEYVAULT_URL": emulator.vault_url,
                "ARCWAVE_LOG_ANALYTICS_ENDPOINT": emulator.log_analytics_endpoint,
                **(env or {}),
            }
        )
        with DevHost(
            ROOT, state_dir=tmp / "devhost", port=port, env=settings_env, easy_auth=easy_auth
        ) as host:
            secret("devhost function key", host.function_key)
            yield Stack(host=host, emulator=emulator, records=records)


PARTIAL = "dea1c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
"""Fails on one broad cluster (store-1): within a budget of one."""
OVER = "dee2c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"
"""Fails on two broad clusters (store-1, store-2): over a budget of one."""

BUDGET_FAILURES = [
    {"commit": "bad0", "clusters": "canary-*", "reason": "HealthCheckFailed"},
    {"commit": "dea1", "clusters": "store-1", "reason": "HealthCheckFailed"},
    {"commit": "dee2", "clusters": "store-[12]", "reason": "HealthCheckFailed"},
]


def api(stack: Stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the operator API at `/api/<path>` with the function key: (status, JSON answer)."""
    return stack.host.request(
        method, f"/api/{path}", body, headers={"x-functions-key": stack.host.function_key}
    )


def written_at(write: dict[str, Any]) -> datetime:
    """When the emulator received a write (its log says it in ISO 8601, UTC)."""
    return datetime.fromisoformat(str(write["time"]).replace("Z", "+00:00"))


def cluster_id(name: str) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg-fleet"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


def slow_canaries(factor: float = 30) -> dict[str, Any]:
    """Canaries that take a few seconds to reconcile: time for an operator to step in."""
    return {"slow": [{"clusters": "canary-*", "factor": factor}]}
