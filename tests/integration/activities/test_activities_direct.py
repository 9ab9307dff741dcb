"""The activities called directly, over the real store (SQLite) and the emulator (ARM).

The same functions run under devhost as durable activities; here each step is one call, as
an orchestrator would make it, so the state they leave behind can be checked step by step.
"""

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from activities import advance, observe, plan, record, restore
from emulator.testing import Emulator
from shared.contracts.activities import ObserveRequest, RolloutRef, WaveRef
from shared.reasons import Reason
from shared.runtime import Runtime, build_runtime
from shared.settings import CredentialKind, Settings, StoreSettings
from shared.states import ClusterState, RolloutState
from shared.store import TrackRecord
from shared.times import utc_now
from shared.trackspec import validate_track_spec
from tests.support import HAND_MADE_CONFIGURATION, eventually

pytestmark = pytest.mark.integration

SUB = "00000000-0000-0000-0000-000000000001"
GOOD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
BAD = "bad0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"

SCENARIO = {
    "subscriptionId": SUB,
    "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
    "clusters": [
        {"name": "canary-1", "tags": {"ring": "canary", "site": "site-1"}},
        {"name": "canary-2", "tags": {"ring": "canary", "site": "site-2"}},
        {"generate": {"count": 6, "name": "store-{i:02d}", "sites": 2, "tags": {"ring": "broad"}}},
    ],
    "flux": {
        "branchHeads": {"main": GOOD},
        "reconcileSeconds": {"min": 0.01, "max": 0.05},
        "failures": [{"commit": "bad0", "clusters": "canary-*", "reason": "HealthCheckFailed"}],
    },
    "faults": {"offline": ["store-03"]},
    "arm": {"operationSeconds": 0.01},
}

TRACK = {
    "name": "baseline",
    "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
    "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
    "fleet": {"subscriptions": [SUB]},
    "waves": [
        {"name": "canary", "selector": {"ring": "canary"}},
        {"name": "broad", "maxConcurrency": 2, "perSiteConcurrency": 1},
    ],
}


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[tuple[Runtime, Emulator]]:
    with Emulator(SCENARIO, tls_dir=tmp_path / "tls") as emulator:
        settings = Settings(
            arm_endpoint=emulator.endpoint,
            arm_ca_bundle=emulator.cert_path,
            credential=CredentialKind.EMULATOR,
            store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "arcwave.db"),
        )
        runtime = build_runtime(settings)
        spec = validate_track_spec(TRACK)
        runtime.records.tracks.save(TrackRecord.for_spec(spec, utc_now()))
        yield runtime, emulator


def start(rt: Runtime, rollout_id: str, revision: str) -> RolloutRef:
    record.record(
        rt,
        {
            "rolloutId": rollout_id,
            "track": "baseline",
            "key": "started",
            "reason": Reason.ROLLOUT_STARTED.value,
            "message": f"rolling {revision[:7]}",
            "state": RolloutState.RUNNING.value,
            "revision": revision,
            "trigger": {"kind": "test", "actor": "pytest"},
        },
    )
    return {"rolloutId": rollout_id, "track": "baseline", "revision": revision}


def run_wave(rt: Runtime, ref: RolloutRef, wave: str) -> dict[str, int]:
    """Advance the wave's window until it settles, as the wave orchestrator does."""
    request = WaveRef(**ref, wave=wave)
    result = eventually(lambda: (r := advance.advance(rt, request))["settled"] and r, timeout=30)
    return result["counts"]


def watch(rt: Runtime, ref: RolloutRef, wave: str) -> dict[str, int]:
    request = ObserveRequest(**ref, wave=wave, recheck=False)
    result = eventually(lambda: (r := observe.observe(rt, request))["settled"] and r, timeout=30)
    return result["counts"]


def test_a_good_revision_goes_wave_by_wave_and_becomes_last_good(
    rt: tuple[Runtime, Emulator],
) -> None:
    runtime, emulator = rt
    ref = start(runtime, "r1", GOOD)
    planned = plan.plan(runtime, ref)
    assert [
        (w["name"], w["clusters"], w["maxInFlight"], w["maxPerSite"]) for w in planned["waves"]
    ] == [
        ("canary", 2, 2, None),
        ("broad", 6, 2, 1),
    ]
    assert planned["previousRevision"] is None
    assert run_wave(runtime, ref, "canary") == {"Healthy": 2}
    broad_writes_before = [w for w in emulator.control.writes() if w["cluster"].startswith("store")]
    assert broad_writes_before == []
    assert run_wave(runtime, ref, "broad") == {"Healthy": 5, "Skipped": 1}
    skipped = runtime.records.clusters.list("baseline", state=ClusterState.SKIPPED)
    assert [(c.name, c.reason) for c in skipped] == [("store-03", Reason.SKIPPED_OFFLINE)]

    record.record(
        runtime,
        {
            "rolloutId": "r1",
            "track": "baseline",
            "key": "succeeded",
            "reason": Reason.ROLLOUT_SUCCEEDED.value,
            "message": "done",
            "state": RolloutState.SUCCEEDED.value,
            "advanceLastGood": True,
        },
    )
    track = runtime.records.tracks.get("baseline")
    assert (track.last_good_revision, track.current_revision, track.active_rollout_id) == (
        GOOD,
        GOOD,
        None,
    )
    healthy = runtime.records.clusters.list("baseline", state=ClusterState.HEALTHY)
    assert len(healthy) == 7
    assert {c.last_good_revision for c in healthy} == {GOOD}
    assert {c.applied_revision for c in healthy} == {GOOD}
    rollout = runtime.records.rollouts.get("baseline", "r1")
    assert rollout.state is RolloutState.SUCCEEDED
    assert [e.reason for e in runtime.records.timeline.list("r1")] == [
        Reason.ROLLOUT_STARTED,
        Reason.ROLLOUT_SUCCEEDED,
    ]
    writes = emulator.control.writes()
    assert {w["commit"] for w in writes} == {GOOD}
    assert "store-03" not in {w["cluster"] for w in writes}


def test_a_failing_canary_is_rolled_back_to_the_last_good_revision(
    rt: tuple[Runtime, Emulator],
) -> None:
    runtime, emulator = rt
    good = start(runtime, "r1", GOOD)
    plan.plan(runtime, good)
    run_wave(runtime, good, "canary")
    record.record(
        runtime,
        {
            "rolloutId": "r1",
            "track": "baseline",
            "key": "succeeded",
            "reason": Reason.ROLLOUT_SUCCEEDED.value,
            "state": RolloutState.SUCCEEDED.value,
            "advanceLastGood": True,
        },
    )
    bad = start(runtime, "r2", BAD)
    assert plan.plan(runtime, bad)["previousRevision"] == GOOD
    assert run_wave(runtime, bad, "canary") == {"Failed": 2}
    failed = runtime.records.clusters.list("baseline", state=ClusterState.FAILED)
    assert {c.reason for c in failed} == {Reason.HEALTH_CHECK_FAILED}

    result = restore.restore(runtime, {**bad, "wave": "canary"})
    assert result == {"restored": 2, "reinstated": 0, "removed": 0, "failed": 0}
    assert watch(runtime, bad, "canary") == {"RolledBack": 2}
    canary = [w for w in emulator.control.writes() if w["cluster"] == "canary-1"]
    assert [w["commit"] for w in canary] == [GOOD, BAD, GOOD]
    # Later waves never saw the bad commit.
    assert all(
        w["commit"] != BAD
        for w in emulator.control.writes()
        if w["cluster"] != "canary-1" and not w["cluster"].startswith("canary")
    )


def test_clusters_never_written_before_have_the_configuration_removed(
    rt: tuple[Runtime, Emulator],
) -> None:
    runtime, emulator = rt
    bad = start(runtime, "r1", BAD)
    plan.plan(runtime, bad)
    assert run_wave(runtime, bad, "canary") == {"Failed": 2}
    assert restore.restore(runtime, {**bad, "wave": "canary"}) == {
        "restored": 0,
        "reinstated": 0,
        "removed": 2,
        "failed": 0,
    }
    assert watch(runtime, bad, "canary") == {"RolledBack": 2}
    assert [w["method"] for w in emulator.control.writes() if w["cluster"] == "canary-2"] == [
        "PUT",
        "DELETE",
    ]


def test_the_deadline_turns_progressing_clusters_into_failures(
    rt: tuple[Runtime, Emulator],
) -> None:
    runtime, emulator = rt
    emulator.control.patch_faults(slow=[{"clusters": "canary-*", "factor": 100000}])
    ref = start(runtime, "r1", GOOD)
    plan.plan(runtime, ref)
    first = advance.advance(runtime, WaveRef(**ref, wave="canary"))
    assert (first["written"], first["settled"]) == (2, False)
    # Each cluster's deadline runs from its own write: half an hour later it has passed.
    later = replace(runtime, now=lambda: utc_now() + timedelta(minutes=31))
    last = advance.advance(later, WaveRef(**ref, wave="canary"))
    assert (last["counts"], last["settled"]) == ({"Failed": 2}, True)
    reasons = {c.reason for c in runtime.records.clusters.list("baseline", wave="canary")}
    assert reasons == {Reason.PROGRESS_DEADLINE_EXCEEDED}


def test_a_cluster_that_regresses_during_soak_fails_the_recheck(
    rt: tuple[Runtime, Emulator],
) -> None:
    runtime, emulator = rt
    ref = start(runtime, "r1", GOOD)
    plan.plan(runtime, ref)
    assert run_wave(runtime, ref, "canary") == {"Healthy": 2}
    emulator.control.edit_configuration(
        "canary-1", "baseline", {"complianceState": "Non-Compliant"}
    )
    recheck = observe.observe(runtime, ObserveRequest(**ref, wave="canary", recheck=True))
    assert recheck["counts"] == {"Healthy": 1, "Failed": 1}
    [regressed] = runtime.records.clusters.list("baseline", state=ClusterState.FAILED)
    assert (regressed.name, regressed.reason) == ("canary-1", Reason.REGRESSED_DURING_SOAK)


def test_a_held_rollout_writes_nothing(rt: tuple[Runtime, Emulator]) -> None:
    runtime, emulator = rt
    ref = start(runtime, "r1", GOOD)
    plan.plan(runtime, ref)
    control = record.record(
        runtime,
        {
            "rolloutId": "r1",
            "track": "baseline",
            "key": "paused",
            "reason": Reason.PAUSED.value,
            "state": RolloutState.PAUSED.value,
            "control": {"paused": True},
        },
    )
    assert control["paused"]
    result = advance.advance(runtime, WaveRef(**ref, wave="canary"))
    assert (result["written"], result["held"], result["pending"]) == (0, "paused", 2)
    assert emulator.control.writes() == []


def test_the_window_writes_only_into_free_slots(rt: tuple[Runtime, Emulator]) -> None:
    runtime, emulator = rt
    emulator.control.patch_faults(slow=[{"clusters": "store-*", "factor": 100000}])
    ref = start(runtime, "r1", GOOD)
    plan.plan(runtime, ref)
    step = WaveRef(**ref, wave="broad")
    first = advance.advance(runtime, step)
    # maxConcurrency 2, perSiteConcurrency 1: one cluster of each site; store-03 is offline and
    # skipped, which frees its slot at once.
    assert (first["written"], first["inFlight"]) == (2, 2)
    assert advance.advance(runtime, step)["written"] == 0
    assert len({w["cluster"] for w in emulator.control.writes()}) == 2
    emulator.control.patch_faults(slow=[])
    emulator.control.reconcile()
    second = eventually(lambda: (r := advance.advance(runtime, step))["written"] and r, timeout=30)
    assert second["inFlight"] <= 2


def test_a_wave_over_its_budget_writes_nothing_more(rt: tuple[Runtime, Emulator]) -> None:
    runtime, emulator = rt
    spec = validate_track_spec(
        {
            **TRACK,
            "waves": [{"name": "canary", "selector": {"ring": "canary"}, "maxConcurrency": 1}],
        }
    )
    runtime.records.tracks.save(TrackRecord.for_spec(spec, utc_now()))
    bad = start(runtime, "r1", BAD)
    plan.plan(runtime, bad)
    assert run_wave(runtime, bad, "canary") == {"Failed": 1, "Pending": 1}
    assert [w["cluster"] for w in emulator.control.writes()] == ["canary-1"]
    [left] = runtime.records.clusters.list("baseline", state=ClusterState.PENDING)
    assert "spent its failure budget" in left.message


def test_a_configuration_found_before_arcwave_is_put_back(rt: tuple[Runtime, Emulator]) -> None:
    runtime, _ = rt
    canary = (
        "/subscriptions/"
        + SUB
        + "/resourceGroups/rg-fleet/providers/Microsoft.Kubernetes/connectedClusters/canary-1"
    )
    assert runtime.fleet.put(canary, "baseline", HAND_MADE_CONFIGURATION).ok
    before = runtime.fleet.read_configuration(canary, "baseline")
    bad = start(runtime, "r1", BAD)
    plan.plan(runtime, bad)
    assert run_wave(runtime, bad, "canary") == {"Failed": 2}
    point = runtime.records.clusters.get("baseline", canary).restore_point
    assert point is not None and point.configuration is not None
    assert restore.restore(runtime, {**bad, "wave": "canary"}) == {
        "restored": 0,
        "reinstated": 1,
        "removed": 1,
        "failed": 0,
    }
    assert watch(runtime, bad, "canary") == {"RolledBack": 2}
    after = runtime.fleet.read_configuration(canary, "baseline")
    assert before is not None and after is not None
    for field in ("scope", "namespace", "sourceKind", "gitRepository", "kustomizations"):
        assert after["properties"][field] == before["properties"][field], field
