"""What the ETA is computed from: the expected reconcile time (configured, learned from the
track's clusters, or the default) and a plan or a running rollout turned into the simulator's
input (`shared.forecast`, `shared.reconcile_time`)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.cluster import Cluster
from shared.eta import WriteBudget
from shared.eta_model import ReconcileEta, ReconcileSource
from shared.forecast import plan_eta, rollout_eta, subscription_of
from shared.planner import plan_rollout
from shared.reasons import Reason
from shared.reconcile_time import DEFAULT_RECONCILE, expected_reconcile, learned_reconcile
from shared.states import ClusterState, RolloutState, WaveState
from shared.store import ClusterRecord, RolloutControl, RolloutRecord, Trigger, WaveStatus
from shared.trackspec import TrackSpec, validate_track_spec

T0 = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
SUB = "00000000-0000-0000-0000-00000000000a"
OTHER = "00000000-0000-0000-0000-00000000000b"
BUDGET = WriteBudget(burst=100, per_second=10)


def cluster_id(name: str, sub: str = SUB) -> str:
    arc = "providers/Microsoft.Kubernetes/connectedClusters"
    return f"/subscriptions/{sub}/resourceGroups/rg/{arc}/{name}"


def spec(**overrides: Any) -> TrackSpec:
    data: dict[str, Any] = {
        "name": "baseline",
        "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
        "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
        "fleet": {"subscriptions": [SUB, OTHER]},
        "waves": [
            {"name": "canary", "selector": {"ring": "canary"}, "soak": "5m"},
            {"name": "broad", "maxConcurrency": 2, "approval": True},
        ],
        "expectedReconcile": "3m",
    }
    data.update(overrides)
    return validate_track_spec(data)


def record(name: str, **fields: Any) -> ClusterRecord:
    values: dict[str, Any] = {
        "cluster_id": cluster_id(name),
        "name": name,
        "track": "baseline",
        "updated_at": T0,
    }
    values.update(fields)
    return ClusterRecord(**values)


def healthy(name: str, took: timedelta, settled: datetime = T0) -> ClusterRecord:
    return record(name, state=ClusterState.HEALTHY, written_at=settled - took, settled_at=settled)


# -- the expected reconcile time ---------------------------------------------------------------


def test_the_learned_time_is_the_median_of_recent_healthy_clusters() -> None:
    records = [
        healthy("a", timedelta(seconds=60)),
        healthy("b", timedelta(seconds=90)),
        healthy("c", timedelta(seconds=300)),
        record("d", state=ClusterState.FAILED, written_at=T0, settled_at=T0 + timedelta(hours=1)),
        record("e", state=ClusterState.PROGRESSING, written_at=T0),
    ]
    learned = learned_reconcile(records)
    assert learned == ReconcileEta(
        duration=timedelta(seconds=90), source=ReconcileSource.HISTORY, samples=3
    )


def test_too_little_history_teaches_nothing() -> None:
    assert learned_reconcile([healthy("a", timedelta(seconds=60))] * 2) is None


def test_only_the_newest_verdicts_count() -> None:
    old = [healthy(f"o{i}", timedelta(hours=1), T0 - timedelta(days=30)) for i in range(300)]
    new = [healthy(f"n{i}", timedelta(seconds=30)) for i in range(200)]
    learned = learned_reconcile(old + new)
    assert learned is not None and learned.duration == timedelta(seconds=30)


def test_configured_beats_learned_beats_the_default() -> None:
    track = spec(waves=[{"name": "w", "percent": 50, "expectedReconcile": "45s"}, {"name": "x"}])
    learned = ReconcileEta(
        duration=timedelta(seconds=70), source=ReconcileSource.HISTORY, samples=5
    )
    assert expected_reconcile(track, track.waves[0], learned).source is ReconcileSource.WAVE
    assert expected_reconcile(track, track.waves[1], learned).duration == timedelta(minutes=3)
    bare = spec(expectedReconcile=None)
    assert expected_reconcile(bare, bare.waves[0], learned) == learned
    fallback = expected_reconcile(bare, bare.waves[0], None)
    assert (fallback.duration, fallback.source) == (DEFAULT_RECONCILE, ReconcileSource.DEFAULT)


def test_expected_reconcile_must_be_positive() -> None:
    with pytest.raises(Exception, match="expectedReconcile"):
        spec(expectedReconcile="0s")


# -- a plan's ETA ------------------------------------------------------------------------------


def fleet() -> list[Cluster]:
    return [
        Cluster(id=cluster_id("canary-1"), name="canary-1", tags={"ring": "canary"}),
        *(Cluster(id=cluster_id(f"a-{i}"), name=f"a-{i}") for i in range(3)),
        *(Cluster(id=cluster_id(f"b-{i}", OTHER), name=f"b-{i}") for i in range(3)),
        Cluster(
            id=cluster_id("gone"),
            name="gone",
            properties={"connectivityStatus": "Offline"},
        ),
    ]


def test_a_plan_runs_its_waves_with_their_gates_and_the_configured_time() -> None:
    track = spec()
    planned = plan_rollout(track, fleet())
    eta = plan_eta(track, planned, fleet(), BUDGET, None, T0)
    canary, broad = eta.waves
    assert canary.reconcile.source is ReconcileSource.TRACK
    assert canary.finish == T0 + timedelta(minutes=3 + 5)
    assert broad.waits == ["approval: unknown wait"]
    assert (broad.clusters, broad.skipped) == (6, 1)  # the offline one is skipped (offline: skip)
    assert [len(b.clusters) for b in broad.batches] == [2, 2, 2]
    assert eta.finish == canary.finish + timedelta(minutes=9)


def test_offline_clusters_hold_their_slot_until_the_deadline_under_wait() -> None:
    track = spec(offline="wait", progressDeadline="20m")
    planned = plan_rollout(track, fleet())
    eta = plan_eta(track, planned, fleet(), BUDGET, None, T0)
    broad = eta.wave("broad")
    assert broad.skipped == 0
    assert broad.healthy is not None and broad.start is not None
    assert broad.healthy - broad.start >= timedelta(minutes=20)


def test_subscriptions_come_from_the_arm_id() -> None:
    assert subscription_of(cluster_id("x", OTHER.upper())) == OTHER
    assert subscription_of("bare-name") == ""


# -- a running rollout's ETA -------------------------------------------------------------------


def rollout(state: RolloutState, waves: list[WaveStatus], **control: Any) -> RolloutRecord:
    track = spec()
    planned = plan_rollout(track, fleet())
    base = RolloutRecord(
        id="r1",
        track="baseline",
        revision="a" * 40,
        state=state,
        trigger=Trigger(kind="api", actor="ops"),
        created_at=T0,
        updated_at=T0,
    ).with_plan(planned, track, "v1")
    return base.model_copy(update={"waves": waves, "control": RolloutControl(**control)})


def mine(name: str, wave: str, position: int, **fields: Any) -> ClusterRecord:
    return record(name, wave=wave, position=position, last_rollout_id="r1", **fields)


def test_a_running_rollout_counts_what_is_left_from_now() -> None:
    now = T0 + timedelta(minutes=20)
    waves = [
        WaveStatus(name="canary", state=WaveState.SUCCEEDED),
        WaveStatus(name="broad", state=WaveState.APPLYING),
    ]
    clusters = [
        mine("canary-1", "canary", 0, state=ClusterState.HEALTHY, written_at=T0, settled_at=T0),
        mine(
            "a-0",
            "broad",
            0,
            state=ClusterState.HEALTHY,
            written_at=now - timedelta(minutes=6),
            settled_at=now - timedelta(minutes=3),
        ),
        mine(
            "a-1", "broad", 1, state=ClusterState.PROGRESSING, written_at=now - timedelta(minutes=1)
        ),
        mine("a-2", "broad", 2, state=ClusterState.PENDING),
        record("elsewhere", wave="broad", last_rollout_id="older", state=ClusterState.PENDING),
    ]
    eta = rollout_eta(
        rollout(RolloutState.RUNNING, waves, approvals={"broad": "ops"}),
        clusters,
        BUDGET,
        None,
        now,
    )
    assert eta is not None and eta.unknown_waits == []
    assert eta.wave("canary").phase == "done"
    broad = eta.wave("broad")
    assert broad.start == now - timedelta(minutes=6)  # its first write, settled or not
    assert [b.clusters for b in broad.batches] == [[cluster_id("a-1")], [cluster_id("a-2")]]
    assert broad.batches[0].written and broad.batches[0].finish == now + timedelta(minutes=2)
    assert eta.finish == now + timedelta(minutes=3)


def test_a_rollout_waiting_for_approval_or_paused_says_so() -> None:
    waves = [
        WaveStatus(name="canary", state=WaveState.SUCCEEDED),
        WaveStatus(name="broad", state=WaveState.WAITING_FOR_APPROVAL),
    ]
    eta = rollout_eta(
        rollout(RolloutState.WAITING_FOR_APPROVAL, waves, paused=True), [], BUDGET, None, T0
    )
    assert eta is not None
    assert eta.unknown_waits == ["paused: unknown wait", "wave 'broad' approval: unknown wait"]


def test_a_soaking_wave_soaks_from_its_last_verdict() -> None:
    waves = [
        WaveStatus(name="canary", state=WaveState.SOAKING),
        WaveStatus(name="broad", state=WaveState.PENDING),
    ]
    settled = T0 - timedelta(minutes=1)
    clusters = [
        mine(
            "canary-1",
            "canary",
            0,
            state=ClusterState.HEALTHY,
            written_at=T0 - timedelta(minutes=4),
            settled_at=settled,
        ),
    ]
    eta = rollout_eta(rollout(RolloutState.RUNNING, waves), clusters, BUDGET, None, T0)
    assert eta is not None and eta.wave("canary").finish == settled + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("state", "waves", "control"),
    [
        (RolloutState.SUCCEEDED, [], {}),
        (RolloutState.RUNNING, [WaveStatus(name="canary", state=WaveState.FAILED)], {}),
        (RolloutState.RUNNING, [], {"abort": True}),
    ],
    ids=["ended", "rolling back", "aborting"],
)
def test_no_eta_once_a_rollout_ends_or_turns_back(
    state: RolloutState, waves: list[WaveStatus], control: dict[str, bool]
) -> None:
    assert rollout_eta(rollout(state, waves, **control), [], BUDGET, None, T0) is None


def test_no_eta_before_a_rollout_is_planned() -> None:
    unplanned = RolloutRecord(
        id="r1",
        track="baseline",
        revision="a" * 40,
        trigger=Trigger(kind="api", actor="ops"),
        created_at=T0,
        updated_at=T0,
    )
    assert rollout_eta(unplanned, [], BUDGET, None, T0) is None


# -- maintenance windows -----------------------------------------------------------------------

WINDOWS = [
    {"name": "night", "schedule": "0 22 * * *", "duration": "2h"},
    {"name": "store-b", "schedule": "0 23 * * *", "duration": "30m", "clusters": {"shop": "b"}},
]


def test_a_plan_writes_each_cluster_inside_its_wave_and_tag_windows() -> None:
    track = spec(
        maintenanceWindows=WINDOWS,
        waves=[{"name": "all", "windows": ["night"]}],
        expectedReconcile="10m",
    )
    clusters = [
        Cluster(id=cluster_id("a"), name="a"),
        Cluster(id=cluster_id("b"), name="b", tags={"shop": "b"}),
    ]
    eta = plan_eta(track, plan_rollout(track, clusters), clusters, BUDGET, None, T0)
    batches = eta.wave("all").batches
    tonight = T0.replace(hour=22)
    assert [(b.clusters, b.start) for b in batches] == [
        ([cluster_id("a")], tonight),
        ([cluster_id("b")], tonight + timedelta(hours=1)),  # both windows open from 23:00
    ]
    assert eta.wave("all").waits == [
        "maintenance window: nothing can be written until 2026-02-02T22:00:00.000000Z",
        "maintenance window: nothing can be written until 2026-02-02T23:00:00.000000Z",
    ]


def test_a_running_rollout_keeps_the_windows_its_clusters_were_planned_with() -> None:
    track = spec(maintenanceWindows=WINDOWS)
    planned = plan_rollout(track, fleet())
    base = RolloutRecord(
        id="r1",
        track="baseline",
        revision="a" * 40,
        state=RolloutState.RUNNING,
        trigger=Trigger(kind="api", actor="ops"),
        created_at=T0,
        updated_at=T0,
    ).with_plan(planned, track, "v1")
    waves = [WaveStatus(name="canary", state=WaveState.APPLYING), WaveStatus(name="broad")]
    pending = [mine("canary-1", "canary", 0, state=ClusterState.PENDING, windows=["night"])]
    running = base.model_copy(update={"waves": waves})
    eta = rollout_eta(running, pending, BUDGET, None, T0)
    assert eta is not None
    assert eta.wave("canary").start == T0.replace(hour=22)
    control = RolloutControl(
        windows_override={"by": "ops", "reason": "hotfix", "at": T0}  # type: ignore[arg-type]
    )
    overridden = running.model_copy(update={"control": control})
    eta = rollout_eta(overridden, pending, BUDGET, None, T0)
    assert eta is not None and eta.wave("canary").start == T0


def test_a_healthy_verdict_remembers_how_long_the_write_took() -> None:
    written = record("a", state=ClusterState.PROGRESSING, written_at=T0)
    judged = written.healthy(Reason.RECONCILED, "ok", T0 + timedelta(seconds=75))
    assert (judged.reconciled_in, judged.reconciled_at) == (75.0, T0 + timedelta(seconds=75))
    # A later rollout plans it again (its times reset, what it learned kept): still learned.
    replanned = record("a", state=ClusterState.PENDING, reconciled_in=75.0, reconciled_at=T0)
    learned = learned_reconcile([replanned] * 3)
    assert learned is not None and learned.duration == timedelta(seconds=75)
