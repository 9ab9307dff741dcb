"""Azure as it is, end to end through the public API: a private source with its key in Key
Vault (never anywhere else), pin changes that PATCH and keep what arcwave does not own,
create-only fields, clusters that reconnect with no event, and writes by someone else."""

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from rollout_support import GOOD, GOOD2, Stack, api, running_stack, track_spec

from tests.support import Topic, eventually, secret

pytestmark = pytest.mark.e2e

PRIVATE = "ssh://git@ssh.dev.azure.com/v3/contoso/fleet/fleet-config"
KEY = secret(
    "Key Vault secret fleet-ssh-key",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----\n",
)
SSH_SOURCE = {
    "url": PRIVATE,
    "branch": "main",
    "auth": {
        "ssh": {
            "privateKey": {"secret": "fleet-ssh-key"},
            "knownHosts": "ssh.dev.azure.com ssh-rsa AAAAB3NzaC1yc2E",
        }
    },
}
PRIVATE_FLUX = {
    "branchHeads": {"main": GOOD},
    "reconcileSeconds": {"min": 0.05, "max": 0.3},
    "sources": [{"url": PRIVATE, "private": True, "accept": {"sshPrivateKey": KEY}}],
}
TERMINAL = {"Succeeded", "Failed", "RolledBack", "Aborted", "Superseded"}
ARGS = ("rg-fleet", "Microsoft.Kubernetes", "connectedClusters")


def start(stack: Stack, revision: str) -> str:
    code, body = api(stack, "POST", "tracks/baseline/rollouts", {"revision": revision})
    assert code == 202, body
    return str(body["rolloutId"])


def wait(stack: Stack, rollout_id: str, timeout: float = 120.0) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        code, detail = api(stack, "GET", f"rollouts/{rollout_id}")
        return detail if code == 200 and detail["state"] in TERMINAL else None

    return eventually(
        ended,
        timeout=timeout,
        interval=0.2,
        what=f"rollout {rollout_id} ended",
        context=lambda: str(api(stack, "GET", f"rollouts/{rollout_id}")[1]),
    )


def fleet_cluster(stack: Stack, name: str) -> dict[str, Any]:
    _, fleet = api(stack, "GET", "fleet?track=baseline")
    return next(c for c in fleet["clusters"] if c["name"] == name)


def register(stack: Stack, query: str = "", **spec: Any) -> tuple[int, Any]:
    return api(stack, "PUT", f"tracks/baseline{query}", track_spec(**spec))


def everything_arcwave_leaves(stack: Stack, topic: Topic, rollout_ids: list[str]) -> str:
    """Every trace a user could look at: logs, the store, durable history, the timeline,
    events and API answers, as one text."""
    texts = [stack.host.output(since_start=False)]
    for db in [
        *stack.host.state_dir.rglob("*.sqlite3"),
        *Path(stack.host.state_dir).parent.rglob("*.db"),
    ]:
        texts.append(db.read_bytes().decode("latin-1"))
    texts += [json.dumps(batch) for _, batch in topic.requests]
    for path in ["tracks", "tracks/baseline", "fleet?track=baseline", "rollouts"]:
        texts.append(json.dumps(api(stack, "GET", path)[1]))
    for rollout_id in rollout_ids:
        texts.append(json.dumps(api(stack, "GET", f"rollouts/{rollout_id}")[1]))
        texts.append(json.dumps(api(stack, "GET", f"rollouts/{rollout_id}/timeline")[1]))
    return "\n".join(texts)


def test_a_private_source_rolls_out_with_its_key_from_key_vault_and_nowhere_else(
    tmp_path: Path,
) -> None:
    topic = Topic()
    env = {"ARCWAVE_EVENTGRID_ENDPOINT": topic.url, "ARCWAVE_EVENTGRID_KEY": "topic-key"}
    try:
        with running_stack(
            tmp_path, env=env, flux=PRIVATE_FLUX, keyVault={"secrets": {"fleet-ssh-key": KEY}}
        ) as stack:
            code, body = register(stack, source=SSH_SOURCE)
            assert code == 201, body
            first = start(stack, GOOD)
            assert wait(stack, first)["state"] == "Succeeded"
            protected = stack.emulator.control.protected_settings("store-1", "baseline")
            assert protected["values"] == {"sshPrivateKey": base64.b64encode(KEY.encode()).decode()}
            writes = len(stack.writes())
            second = start(stack, GOOD2)
            assert wait(stack, second)["state"] == "Succeeded"
            pins = [w for w in stack.writes()[writes:] if w["commit"] == GOOD2]
            assert pins and {w["method"] for w in pins} == {"PATCH"}
            assert stack.emulator.control.protected_settings("store-1", "baseline") == protected
            traces = everything_arcwave_leaves(stack, topic, [first, second])
    finally:
        topic.close()
    assert topic.requests, "no event was published: the scan would prove nothing"
    for form in (KEY, KEY.strip(), base64.b64encode(KEY.encode()).decode(), "b3BlbnNzaC1rZXktdjE"):
        assert form not in traces


def test_a_private_source_without_credentials_fails_saying_so(tmp_path: Path) -> None:
    with running_stack(tmp_path, flux=PRIVATE_FLUX) as stack:
        code, body = register(stack, source={"url": PRIVATE, "branch": "main"})
        assert code == 201, body
        detail = wait(stack, start(stack, GOOD))
        assert detail["state"] == "RolledBack"
        assert "SourceAuthenticationFailed" in detail["message"]
        assert not any(w["cluster"].startswith("store") for w in stack.writes())


def test_a_hand_added_protected_setting_survives_a_rollout(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        assert register(stack)[0] == 201
        assert wait(stack, start(stack, GOOD))["state"] == "Succeeded"
        stack.flux_client().flux_configurations.begin_update(
            *ARGS,
            "canary-1",
            "baseline",
            {"properties": {"configurationProtectedSettings": {"httpsKey": "aGFuZC1hZGRlZA=="}}},
        ).result()
        assert wait(stack, start(stack, GOOD2))["state"] == "Succeeded"
        protected = stack.emulator.control.protected_settings("canary-1", "baseline")
        assert protected["values"] == {"httpsKey": "aGFuZC1hZGRlZA=="}
        config = (
            stack.flux_client().flux_configurations.get(*ARGS, "canary-1", "baseline").as_dict()
        )
        assert config["properties"]["gitRepository"]["repositoryRef"]["commit"] == GOOD2


def test_a_scope_change_is_refused_then_re_created_cluster_by_cluster(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        assert register(stack)[0] == 201
        assert wait(stack, start(stack, GOOD))["state"] == "Succeeded"
        namespaced = {
            "name": "baseline",
            "scope": "namespace",
            "namespace": "apps",
            "kustomizations": {"infra": {"path": "./infra"}},
        }
        code, body = register(stack, configuration=namespaced)
        assert code == 409, body
        assert body["fields"] == ["configuration.scope", "configuration.namespace"]
        assert "?recreate=true" in body["error"]
        code, body = register(stack, "?recreate=true", configuration=namespaced)
        assert code == 200, body
        writes = len(stack.writes())
        detail = wait(stack, start(stack, GOOD2))
        assert detail["state"] == "Succeeded", detail["message"]
        ops: dict[str, list[str]] = {}
        for write in stack.writes()[writes:]:
            if write["status"] < 300:
                ops.setdefault(write["cluster"], []).append(write["method"])
        assert set(ops) and all(methods == ["DELETE", "PUT"] for methods in ops.values()), ops
        config = stack.flux_client().flux_configurations.get(*ARGS, "store-1", "baseline").as_dict()
        assert (config["properties"]["scope"], config["properties"]["namespace"]) == (
            "namespace",
            "apps",
        )


def test_a_cluster_that_reconnects_is_caught_up_with_no_event_at_all(tmp_path: Path) -> None:
    slow = {"slow": [{"clusters": "canary-*", "factor": 20}]}
    with running_stack(tmp_path, faults=slow) as stack:
        assert register(stack)[0] == 201
        rollout_id = start(stack, GOOD)
        time.sleep(1)  # the canaries are reconciling: store-3 drops off mid-rollout
        stack.emulator.control.set_connectivity("store-3", "Offline")
        detail = wait(stack, rollout_id)
        assert detail["state"] == "Succeeded"
        assert "store-3" not in {w["cluster"] for w in stack.writes()}
        stack.emulator.control.set_connectivity("store-3", "Connected")
        back = time.monotonic()
        eventually(
            lambda: (
                (c := fleet_cluster(stack, "store-3"))["state"] == "Healthy"
                and c["appliedRevision"] == GOOD
            ),
            timeout=150,
            interval=1,
            what="store-3 caught up",
            context=lambda: str(fleet_cluster(stack, "store-3")),
        )
        assert time.monotonic() - back < 130  # within about two minutes
        assert (
            stack.emulator.control.events()["delivered"] == 0
            if "delivered" in (stack.emulator.control.events())
            else True
        )


def test_a_write_by_someone_else_is_reported_with_who_wrote_it(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        assert register(stack)[0] == 201
        assert wait(stack, start(stack, GOOD))["state"] == "Succeeded"
        # A policy-style write: another identity changes what arcwave wrote.
        stack.flux_client().flux_configurations.begin_update(
            *ARGS,
            "store-2",
            "baseline",
            {"properties": {"kustomizations": {"infra": {"path": "./policy-managed"}}}},
        ).result()
        code, _ = stack.host.request(
            "POST", f"/admin/functions/drift_sweep?code={stack.host.function_key}", {}
        )
        assert code == 202
        store2 = eventually(
            lambda: (c := fleet_cluster(stack, "store-2"))["reason"] == "Drifted" and c,
            timeout=60,
            interval=0.5,
            what="drift reported on store-2",
            context=lambda: str(fleet_cluster(stack, "store-2")),
        )
        assert "kustomization 'infra' path is './policy-managed'" in store2["message"]
        assert "last modified by" in store2["message"]
