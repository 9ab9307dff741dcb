"""Azure as it is: a pin change is a PATCH that keeps what arcwave does not own, private
sources get their secrets from Key Vault at write time only, create-only fields are
re-created when asked, and a configuration changed outside arcwave mid-rollout is named."""

import base64
from datetime import timedelta

import pytest

from shared.reasons import Reason
from shared.states import ClusterState, RolloutState
from tests.support import secret
from tests.unit.orchestrators.world import BAD, GOOD, GOOD2, GOOD3, FakeConfiguration, Harness

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")

TERMINAL = ("Succeeded", "Failed", "RolledBack", "Aborted", "Superseded")
PRIVATE = "ssh://git@ssh.dev.azure.com/v3/contoso/fleet/fleet-config"
KEY = secret(
    "Key Vault secret fleet-ssh-key",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----",
)
SSH_SOURCE = {
    "url": PRIVATE,
    "branch": "main",
    "auth": {"ssh": {"privateKey": {"secret": "fleet-ssh-key"}, "knownHosts": "host ssh-rsa AAA"}},
}


def methods(h: Harness, commit: str) -> set[str]:
    return {w.method for w in h.fleet.writes if w.commit == commit}


def test_a_pin_change_is_a_patch_that_keeps_hand_added_protected_settings(h: Harness) -> None:
    h.roll(GOOD, "r1")
    assert h.settle("r1", *TERMINAL).state is RolloutState.SUCCEEDED
    assert methods(h, GOOD) == {"PUT"}
    canary = h.fleet.named("canary-1").configurations["baseline"]
    canary.protected["httpsKey"] = "aGFuZC1tYWRl"  # someone added a credential by hand
    h.roll(GOOD2, "r2")
    assert h.settle("r2", *TERMINAL).state is RolloutState.SUCCEEDED
    assert methods(h, GOOD2) == {"PATCH"}
    after = h.fleet.named("canary-1").configurations["baseline"]
    assert after.protected == {"httpsKey": "aGFuZC1tYWRl"}
    assert after.commit == GOOD2


def test_a_private_source_gets_its_key_from_key_vault_and_keeps_it(h: Harness) -> None:
    h.fleet.private[PRIVATE] = KEY
    h.world.secrets.values["fleet-ssh-key"] = KEY
    h.world.register(source=SSH_SOURCE)
    h.roll(GOOD, "r1")
    assert h.settle("r1", *TERMINAL).state is RolloutState.SUCCEEDED
    config = h.fleet.named("store-1").configurations["baseline"]
    assert config.protected == {"sshPrivateKey": base64.b64encode(KEY.encode()).decode()}
    git = config.body["properties"]["gitRepository"]
    assert base64.b64decode(git["sshKnownHosts"]).decode() == "host ssh-rsa AAA"
    h.roll(GOOD2, "r2")
    assert h.settle("r2", *TERMINAL).state is RolloutState.SUCCEEDED
    assert methods(h, GOOD2) == {"PATCH"}
    assert h.fleet.named("store-1").configurations["baseline"].protected == config.protected
    # A rotated key is written again, whole.
    h.world.secrets.values["fleet-ssh-key"] = KEY.replace("b3Bl", "cm90")
    h.fleet.private[PRIVATE] = h.world.secrets.values["fleet-ssh-key"]
    h.roll(GOOD3, "r3")
    assert h.settle("r3", *TERMINAL).state is RolloutState.SUCCEEDED
    assert methods(h, GOOD3) == {"PUT"}
    for record in h.records.clusters.list("baseline"):
        text = record.model_dump_json()
        assert "b3BlbnNzaC" not in text and "BEGIN OPENSSH" not in text


def test_a_private_source_without_credentials_fails_saying_so(h: Harness) -> None:
    h.fleet.private[PRIVATE] = KEY
    h.world.register(source={"url": PRIVATE, "branch": "main"})
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", *TERMINAL)
    assert rollout.state is RolloutState.ROLLED_BACK
    assert "2 of 2 clusters failed (2 SourceAuthenticationFailed)" in rollout.message
    # Flux said so right away: nobody waited for the progress deadline.
    assert rollout.updated_at - rollout.created_at < timedelta(minutes=1)


def test_a_missing_secret_fails_the_step_naming_it(h: Harness) -> None:
    h.world.register(source=SSH_SOURCE)
    h.roll(GOOD, "r1")
    rollout = h.settle("r1", *TERMINAL)
    assert (rollout.state, rollout.reason) == (RolloutState.FAILED, Reason.STEP_FAILED)
    assert "Key Vault secret 'fleet-ssh-key' does not exist" in rollout.message
    assert h.fleet.writes == []


def test_a_scope_change_re_creates_each_configuration_in_the_window(h: Harness) -> None:
    h.roll(GOOD, "r1")
    assert h.settle("r1", *TERMINAL).state is RolloutState.SUCCEEDED
    h.world.register(
        configuration={
            "name": "baseline",
            "scope": "namespace",
            "namespace": "apps",
            "kustomizations": {"infra": {"path": "./infra"}},
        }
    )
    h.roll(GOOD2, "r2")
    rollout = h.settle("r2", *TERMINAL)
    assert rollout.state is RolloutState.SUCCEEDED, rollout.message
    for name in ("canary-1", "store-3"):
        ops = [(w.method, w.commit) for w in h.fleet.writes if w.cluster == name]
        assert ops == [("PUT", GOOD), ("DELETE", None), ("PUT", GOOD2)]
        body = h.fleet.named(name).configurations["baseline"].body["properties"]
        assert (body["scope"], body["namespace"]) == ("namespace", "apps")


def test_a_configuration_rewritten_mid_rollout_fails_as_drifted(h: Harness) -> None:
    h.world.register(waves=[{"name": "all", "maxConcurrency": 1, "maxFailures": 1}])
    h.fleet.slow["canary-2"] = 30.0
    h.roll(GOOD, "r1")
    h.engine.run_until(lambda: any(w.cluster == "canary-2" for w in h.fleet.writes))
    config = h.fleet.named("canary-2").configurations["baseline"]
    body = {**config.body, "properties": {**config.body["properties"], "namespace": "policy"}}
    h.fleet.named("canary-2").configurations["baseline"] = FakeConfiguration(
        body=body, written=config.written, modified_by="azure-policy-remediation"
    )
    rollout = h.settle("r1", *TERMINAL)
    assert rollout.state is RolloutState.SUCCEEDED  # one failure is within the budget
    drifted = h.records.clusters.get("baseline", h.fleet.named("canary-2").id)
    assert (drifted.state, drifted.reason) == (ClusterState.FAILED, Reason.DRIFTED)
    assert "namespace is 'policy'" in drifted.message
    assert "last modified by azure-policy-remediation" in drifted.message
    _ = BAD
