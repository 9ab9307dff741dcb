"""The store contract: every test runs against SQLite and against the Cosmos stand-in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.plan import Placement, Plan, WavePlan
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState
from shared.store import (
    ClusterRecord,
    Conflict,
    Document,
    NotFound,
    PreconditionFailed,
    Records,
    RolloutRecord,
    Store,
    TrackRecord,
    Trigger,
    cluster_key,
    decode_id,
    encode_id,
    update_with_retry,
)
from shared.store.containers import (
    CLUSTERS,
    DEFAULT_DELIVERY_TTL,
    DEFAULT_TIMELINE_TTL,
    DELIVERIES,
    ROLLOUTS,
    TIMELINE,
    TRACKS,
)
from shared.trackspec import validate_track_spec

pytestmark = [
    pytest.mark.integration,
    # The Cosmos adapter must verify the stand-in's certificate, not skip verification.
    pytest.mark.filterwarnings("error::urllib3.exceptions.InsecureRequestWarning"),
]

ARM_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-edge-01"
    "/providers/Microsoft.Kubernetes/connectedClusters/edge-017"
)
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def run_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` on `count` threads started together; return results or exceptions."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return results


def rollout(track: str, id: str, created: datetime, state: RolloutState) -> RolloutRecord:
    return RolloutRecord(
        id=id,
        track=track,
        revision="a" * 40,
        state=state,
        trigger=Trigger(kind="GitPush", actor="github:octocat", delivery_id="d-1"),
        created_at=created,
        updated_at=created,
    )


# -- documents ---------------------------------------------------------------------------------


def test_create_then_get_returns_the_document_with_its_etag(store: Store) -> None:
    created = store.create(ROLLOUTS, {"id": "r1", "track": "baseline", "n": 1})
    fetched = store.get(ROLLOUTS, "baseline", "r1")
    assert fetched["n"] == 1 and fetched["track"] == "baseline"
    assert isinstance(created["_etag"], str) and created["_etag"]
    assert fetched["_etag"] == created["_etag"]
    assert isinstance(fetched["_ts"], int)


def test_get_of_a_missing_document_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound) as caught:
        store.get(ROLLOUTS, "baseline", "missing")
    assert "missing" in str(caught.value)


def test_a_document_lives_in_its_partition_only(store: Store) -> None:
    store.create(CLUSTERS, {"id": "c1", "track": "baseline"})
    store.create(CLUSTERS, {"id": "c1", "track": "apps"})
    with pytest.raises(NotFound):
        store.get(CLUSTERS, "other", "c1")
    assert {d["track"] for d in store.query(CLUSTERS, None)} == {"baseline", "apps"}


def test_create_of_an_existing_id_is_a_conflict(store: Store) -> None:
    store.create(DELIVERIES, {"id": "d1", "source": "github"})
    with pytest.raises(Conflict):
        store.create(DELIVERIES, {"id": "d1", "source": "github", "again": True})
    assert "again" not in store.get(DELIVERIES, "github", "d1")


def test_upsert_creates_then_replaces_with_a_new_etag(store: Store) -> None:
    first = store.upsert(TRACKS, {"id": "baseline", "v": 1})
    second = store.upsert(TRACKS, {"id": "baseline", "v": 2})
    assert second["_etag"] != first["_etag"]
    assert store.get(TRACKS, "baseline", "baseline")["v"] == 2


def test_writes_ignore_the_fields_the_store_owns(store: Store) -> None:
    stored = store.upsert(TRACKS, {"id": "baseline", "_etag": "forged", "_ts": 1, "v": 1})
    assert stored["_etag"] != "forged"
    assert store.get(TRACKS, "baseline", "baseline")["_etag"] == stored["_etag"]


def test_replace_of_a_missing_document_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.replace(TRACKS, {"id": "nope", "v": 1})


def test_delete_removes_and_a_second_delete_is_not_found(store: Store) -> None:
    store.create(TRACKS, {"id": "baseline"})
    store.delete(TRACKS, "baseline", "baseline")
    with pytest.raises(NotFound):
        store.get(TRACKS, "baseline", "baseline")
    with pytest.raises(NotFound):
        store.delete(TRACKS, "baseline", "baseline")


def test_a_document_without_its_partition_key_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="partition key 'track'"):
        store.create(ROLLOUTS, {"id": "r1"})


# -- ETags -------------------------------------------------------------------------------------


def test_conditional_replace_with_the_current_etag_succeeds(store: Store) -> None:
    read = store.create(TRACKS, {"id": "baseline", "v": 1})
    written = store.replace(TRACKS, {**read, "v": 2}, if_match=read["_etag"])
    assert written["v"] == 2 and written["_etag"] != read["_etag"]


def test_two_writers_race_and_the_second_gets_precondition_failed(store: Store) -> None:
    store.create(TRACKS, {"id": "baseline", "v": 0})
    first = store.get(TRACKS, "baseline", "baseline")
    second = store.get(TRACKS, "baseline", "baseline")
    store.replace(TRACKS, {**first, "v": "first"}, if_match=first["_etag"])
    with pytest.raises(PreconditionFailed):
        store.replace(TRACKS, {**second, "v": "second"}, if_match=second["_etag"])
    with pytest.raises(PreconditionFailed):
        store.upsert(TRACKS, {**second, "v": "second"}, if_match=second["_etag"])
    with pytest.raises(PreconditionFailed):
        store.delete(TRACKS, "baseline", "baseline", if_match=second["_etag"])
    assert store.get(TRACKS, "baseline", "baseline")["v"] == "first"


def test_conditional_upsert_of_a_vanished_document_fails_instead_of_recreating(
    store: Store,
) -> None:
    read = store.create(TRACKS, {"id": "baseline", "v": 1})
    store.delete(TRACKS, "baseline", "baseline")
    with pytest.raises(PreconditionFailed):
        store.upsert(TRACKS, {**read, "v": 2}, if_match=read["_etag"])
    with pytest.raises(NotFound):
        store.get(TRACKS, "baseline", "baseline")


def test_conditional_delete_with_the_current_etag_succeeds(store: Store) -> None:
    read = store.create(TRACKS, {"id": "baseline"})
    store.delete(TRACKS, "baseline", "baseline", if_match=read["_etag"])
    with pytest.raises(NotFound):
        store.get(TRACKS, "baseline", "baseline")


def test_update_with_retry_rereads_after_losing_a_race(store: Store) -> None:
    store.create(TRACKS, {"id": "baseline", "log": []})
    calls: list[list[str]] = []

    def append_mine(doc: Document) -> Document:
        calls.append(list(doc["log"]))
        if len(calls) == 1:  # another writer lands between this read and this write
            other = store.get(TRACKS, "baseline", "baseline")
            store.replace(TRACKS, {**other, "log": [*other["log"], "theirs"]})
        return {**doc, "log": [*doc["log"], "mine"]}

    result = update_with_retry(store, TRACKS, "baseline", "baseline", append_mine)
    assert calls == [[], ["theirs"]]
    assert result["log"] == ["theirs", "mine"]
    assert store.get(TRACKS, "baseline", "baseline")["log"] == ["theirs", "mine"]


def test_update_with_retry_gives_up_after_its_attempts(store: Store) -> None:
    store.create(TRACKS, {"id": "baseline", "v": 0})

    def always_raced(doc: Document) -> Document:
        other = store.get(TRACKS, "baseline", "baseline")
        store.replace(TRACKS, {**other, "v": other["v"] + 1})
        return {**doc, "v": -1}

    with pytest.raises(PreconditionFailed, match="after 3 attempts"):
        update_with_retry(
            store, TRACKS, "baseline", "baseline", always_raced, attempts=3, sleep=lambda _: None
        )
    assert store.get(TRACKS, "baseline", "baseline")["v"] == 3


def test_update_with_retry_creates_from_the_default_and_none_means_unchanged(
    store: Store,
) -> None:
    def bump(doc: Document) -> Document:
        return {**doc, "n": doc["n"] + 1}

    created = update_with_retry(store, TRACKS, "t", "t", bump, default=lambda: {"id": "t", "n": 0})
    assert created["n"] == 1
    unchanged = update_with_retry(store, TRACKS, "t", "t", lambda doc: None)
    assert unchanged["_etag"] == created["_etag"]
    with pytest.raises(NotFound):
        update_with_retry(store, TRACKS, "missing", "missing", bump)
    with pytest.raises(NotFound):
        update_with_retry(
            store, TRACKS, "missing", "missing", lambda d: None, default=lambda: {"id": "missing"}
        )


def test_concurrent_compare_and_set_increments_lose_no_update(store: Store) -> None:
    store.create(TRACKS, {"id": "counter", "n": 0})
    threads, rounds = 6, 8

    def increment(_: int) -> None:
        for _ in range(rounds):
            update_with_retry(
                store, TRACKS, "counter", "counter", lambda d: {**d, "n": d["n"] + 1}, attempts=200
            )

    results = run_threads(threads, increment)
    assert [r for r in results if r is not None] == []
    assert store.get(TRACKS, "counter", "counter")["n"] == threads * rounds


# -- create-if-absent --------------------------------------------------------------------------


def test_concurrent_creates_of_one_id_let_exactly_one_win(store: Store) -> None:
    def create(index: int) -> Document:
        return store.create(DELIVERIES, {"id": "once", "source": "github", "by": index})

    results = run_threads(8, create)
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict))
    assert store.get(DELIVERIES, "github", "once")["by"] == winners[0]["by"]


def test_record_delivery_is_true_once_even_from_many_threads(store: Store) -> None:
    records = Records(store)
    results = run_threads(8, lambda _: records.record_delivery("github", "72d3162e-cc78"))
    assert sorted(results) == [False] * 7 + [True]
    assert records.record_delivery("github", "72d3162e-cc78") is False
    assert records.record_delivery("gitlab", "72d3162e-cc78") is True


# -- queries -----------------------------------------------------------------------------------


@pytest.fixture
def rollout_docs(store: Store) -> Store:
    rows = [
        ("r1", "baseline", "Succeeded", "2026-11-20", 1, True),
        ("r2", "baseline", "Failed", "2026-11-21", 2, False),
        ("r3", "baseline", "Succeeded", "2026-11-22", 3, True),
        ("r4", "apps", "Succeeded", "2026-11-23", 4, False),
        ("r5", "apps", "Running", "2026-11-24", 5, True),
    ]
    for id, track, state, created, n, flag in rows:
        store.create(
            ROLLOUTS,
            {"id": id, "track": track, "state": state, "createdAt": created, "n": n, "flag": flag},
        )
    return store


def ids(docs: list[Document]) -> list[str]:
    return [d["id"] for d in docs]


def test_query_of_a_partition_filters_sorts_and_limits(rollout_docs: Store) -> None:
    store = rollout_docs
    assert ids(store.query(ROLLOUTS, "baseline", order_by="createdAt")) == ["r1", "r2", "r3"]
    newest = store.query(ROLLOUTS, "baseline", order_by="createdAt", descending=True, limit=2)
    assert ids(newest) == ["r3", "r2"]
    succeeded = store.query(
        ROLLOUTS, "baseline", where={"state": "Succeeded"}, order_by="n", descending=True
    )
    assert ids(succeeded) == ["r3", "r1"]
    assert all("_etag" in d for d in succeeded)


def test_query_filters_on_numbers_and_booleans(rollout_docs: Store) -> None:
    store = rollout_docs
    assert ids(store.query(ROLLOUTS, "baseline", where={"n": 2})) == ["r2"]
    flagged = store.query(ROLLOUTS, None, where={"flag": True}, order_by="n")
    assert ids(flagged) == ["r1", "r3", "r5"]


def test_query_across_partitions_when_the_key_is_none(rollout_docs: Store) -> None:
    store = rollout_docs
    everything = store.query(ROLLOUTS, None, order_by="createdAt", descending=True)
    assert ids(everything) == ["r5", "r4", "r3", "r2", "r1"]
    succeeded = store.query(
        ROLLOUTS, None, where={"state": "Succeeded"}, order_by="createdAt", limit=2
    )
    assert ids(succeeded) == ["r1", "r3"]


def test_a_sorted_query_leaves_out_documents_without_the_sort_field(
    rollout_docs: Store,
) -> None:
    rollout_docs.create(ROLLOUTS, {"id": "r6", "track": "baseline", "state": "Pending"})
    assert ids(rollout_docs.query(ROLLOUTS, "baseline", order_by="n")) == ["r1", "r2", "r3"]
    assert len(rollout_docs.query(ROLLOUTS, "baseline")) == 4


def test_query_of_an_empty_or_unknown_partition_is_empty(rollout_docs: Store) -> None:
    assert rollout_docs.query(ROLLOUTS, "nobody") == []
    assert rollout_docs.query(TIMELINE, None) == []


def test_query_refuses_field_names_that_are_not_plain(store: Store) -> None:
    with pytest.raises(ValueError, match="plain top-level field"):
        store.query(ROLLOUTS, None, where={"state') OR 1=1 --": "x"})
    with pytest.raises(ValueError, match="plain top-level field"):
        store.query(ROLLOUTS, None, order_by="a.b")
    with pytest.raises(ValueError, match="limit"):
        store.query(ROLLOUTS, None, limit=0)


# -- bulk --------------------------------------------------------------------------------------


def test_upsert_many_writes_every_document_with_an_etag(store: Store) -> None:
    docs = [{"id": f"c{i:03}", "track": "baseline", "n": i} for i in range(230)]
    docs += [{"id": "c000", "track": "apps", "n": -1}]
    stored = store.upsert_many(CLUSTERS, docs)
    assert len(stored) == 231 and all(d["_etag"] for d in stored)
    assert len(store.query(CLUSTERS, "baseline")) == 230
    assert store.get(CLUSTERS, "apps", "c000")["n"] == -1
    again = store.upsert_many(CLUSTERS, [{**docs[5], "n": 500}])
    assert again[0]["n"] == 500 and store.get(CLUSTERS, "baseline", "c005")["n"] == 500
    assert store.upsert_many(CLUSTERS, []) == []


# -- TTL ---------------------------------------------------------------------------------------


def test_timeline_entries_and_deliveries_carry_their_ttl(store: Store) -> None:
    records = Records(store, now=lambda: T0)
    records.timeline.append(
        "r1", "started", actor="arcwave", reason=Reason.ROLLOUT_STARTED, message="Started"
    )
    records.record_delivery("github", "d-1")
    assert store.get(TIMELINE, "r1", "started")["ttl"] == DEFAULT_TIMELINE_TTL
    assert store.get(DELIVERIES, "github", "d-1")["ttl"] == DEFAULT_DELIVERY_TTL
    assert records.timeline.list("r1")[0].ttl == DEFAULT_TIMELINE_TTL


# -- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        ARM_ID,
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/a#b",
        "back\\slash?query~tilde%percent",
        "plain-id",
    ],
)
def test_encoded_ids_round_trip_through_the_store(store: Store, text: str) -> None:
    id = encode_id(text)
    store.create(CLUSTERS, {"id": id, "track": "baseline", "clusterId": text})
    fetched = store.get(CLUSTERS, "baseline", id)
    assert decode_id(fetched["id"]) == text == fetched["clusterId"]
    assert ids(store.query(CLUSTERS, "baseline")) == [id]


def test_a_cluster_record_is_found_by_its_arm_id_in_any_case(store: Store) -> None:
    records = Records(store, now=lambda: T0)
    saved = records.clusters.save(
        ClusterRecord(cluster_id=ARM_ID, name="edge-017", track="baseline", updated_at=T0)
    )
    assert saved.id == cluster_key(ARM_ID) and "/" not in saved.id
    again = records.clusters.get("baseline", ARM_ID.upper())
    assert again.cluster_id == ARM_ID and again.etag == saved.etag


# -- typed repositories ------------------------------------------------------------------------


def spec_of(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
        "configuration": {
            "name": name,
            "kustomizations": {"infra": {"path": "./infrastructure"}},
        },
        "fleet": {"subscriptions": ["00000000-0000-0000-0000-000000000001"]},
        "waves": [
            {"name": "canary", "selector": {"ring": "canary"}, "maxFailures": 0},
            {"name": "broad", "maxFailures": "5%"},
        ],
    }


def test_track_records_round_trip_and_update_with_their_etag(store: Store) -> None:
    records = Records(store, now=lambda: T0)
    spec = validate_track_spec(spec_of("baseline"))
    created = records.tracks.create(TrackRecord.for_spec(spec, T0))
    assert created.etag and created.track_spec() == spec

    moved = records.tracks.update(
        "baseline",
        lambda t: t.model_copy(update={"current_revision": "b" * 40, "active_rollout_id": "r1"}),
    )
    assert moved.current_revision == "b" * 40 and moved.etag != created.etag
    with pytest.raises(PreconditionFailed):
        records.tracks.save(
            created.model_copy(update={"active_rollout_id": None}), if_match=created.etag
        )
    records.tracks.create(TrackRecord.for_spec(validate_track_spec(spec_of("apps")), T0))
    assert [t.id for t in records.tracks.list()] == ["apps", "baseline"]
    assert records.tracks.find("nope") is None


def test_every_repository_write_stamps_updated_at_from_its_clock(store: Store) -> None:
    minute = timedelta(minutes=1)
    ticks = iter([T0, T0 + minute, T0 + 2 * minute])
    records = Records(store, now=lambda: next(ticks))
    stale = TrackRecord(id="baseline", spec={}, updated_at=T0 - timedelta(days=1))
    assert records.tracks.create(stale).updated_at == T0
    moved = records.tracks.update("baseline", lambda t: t.model_copy(update={"spec": {"v": 1}}))
    assert moved.updated_at == T0 + minute
    assert records.tracks.save(moved).updated_at == T0 + 2 * minute


def test_rollouts_list_newest_first_by_track_state_and_across_tracks(store: Store) -> None:
    records = Records(store)
    day = timedelta(days=1)
    records.rollouts.create(rollout("baseline", "r1", T0, RolloutState.SUCCEEDED))
    records.rollouts.create(rollout("baseline", "r2", T0 + day, RolloutState.FAILED))
    records.rollouts.create(rollout("baseline", "r3", T0 + 2 * day, RolloutState.SUCCEEDED))
    records.rollouts.create(rollout("apps", "r4", T0 + 3 * day, RolloutState.RUNNING))

    assert [r.id for r in records.rollouts.list("baseline")] == ["r3", "r2", "r1"]
    succeeded = records.rollouts.list("baseline", state=RolloutState.SUCCEEDED, limit=1)
    assert [r.id for r in succeeded] == ["r3"]
    assert [r.id for r in records.rollouts.list()] == ["r4", "r3", "r2", "r1"]
    r2 = records.rollouts.get("baseline", "r2")
    assert r2.trigger.delivery_id == "d-1" and r2.created_at == T0 + day


def test_rollout_record_round_trips_plan_waves_and_counts(store: Store) -> None:
    records = Records(store)
    start = rollout("baseline", "r1", T0, RolloutState.RUNNING)
    records.rollouts.create(start)

    def wave_applied(r: RolloutRecord) -> RolloutRecord:
        return r.model_copy(
            update={
                "waves": [
                    r.wave("canary").model_copy(
                        update={
                            "state": WaveState.PROGRESSING,
                            "reason": Reason.WAVE_STARTED,
                            "counts": {ClusterState.HEALTHY: 2, ClusterState.FAILED: 1},
                        }
                    )
                ],
                "counts": {ClusterState.HEALTHY: 2, ClusterState.FAILED: 1},
            }
        )

    plan = Plan(
        track="baseline",
        waves=[
            WavePlan(
                name="canary",
                clusters=[Placement(id=f"c{i}", name=f"c{i}", reason="selector") for i in range(3)],
                max_in_flight=2,
                rounds=[["c0", "c1"], ["c2"]],
            )
        ],
    )
    spec = validate_track_spec(spec_of("baseline"))
    records.rollouts.save(start.with_plan(plan, spec, "v1"))
    updated = records.rollouts.update("baseline", "r1", wave_applied)
    again = records.rollouts.get("baseline", "r1")
    assert again == updated
    assert again.plan[0].clusters == 3 and again.plan[0].max_in_flight == 2
    assert again.planned_spec() == spec and again.spec_version == "v1"
    assert again.wave("canary").counts == {ClusterState.HEALTHY: 2, ClusterState.FAILED: 1}


def test_cluster_records_of_a_wave_are_saved_at_once_and_listed(store: Store) -> None:
    records = Records(store)
    wave = [
        ClusterRecord(
            cluster_id=ARM_ID.replace("edge-017", f"edge-{i:03}"),
            name=f"edge-{i:03}",
            track="baseline",
            wave="broad" if i >= 10 else "canary",
            state=ClusterState.HEALTHY if i % 4 else ClusterState.FAILED,
            updated_at=T0,
        )
        for i in range(120)
    ]
    assert records.clusters.save_wave(wave) == 120
    assert len(records.clusters.list("baseline")) == 120
    canary = records.clusters.list("baseline", wave="canary")
    assert [c.name for c in canary] == [f"edge-{i:03}" for i in range(10)]
    failed = records.clusters.list("baseline", wave="canary", state=ClusterState.FAILED)
    assert [c.name for c in failed] == ["edge-000", "edge-004", "edge-008"]
    assert records.clusters.list("apps") == []


def test_cluster_update_creates_from_default_then_changes(store: Store) -> None:
    records = Records(store)

    def applied(c: ClusterRecord) -> ClusterRecord:
        return c.model_copy(update={"desired_revision": "c" * 40, "state": ClusterState.APPLYING})

    first = records.clusters.update(
        "baseline",
        ARM_ID,
        applied,
        default=lambda: ClusterRecord(
            cluster_id=ARM_ID, name="edge-017", track="baseline", updated_at=T0
        ),
    )
    assert first.state is ClusterState.APPLYING
    second = records.clusters.update(
        "baseline", ARM_ID, lambda c: c.model_copy(update={"state": ClusterState.HEALTHY})
    )
    assert second.desired_revision == "c" * 40 and second.state is ClusterState.HEALTHY


def test_timeline_writes_each_entry_once_and_lists_oldest_first(store: Store) -> None:
    records = Records(store)
    later = T0 + timedelta(minutes=5)
    assert records.timeline.append(
        "r1",
        "wave/canary/started",
        actor="arcwave",
        reason=Reason.WAVE_STARTED,
        message="Applying revision aaaaaaa to wave 'canary'",
        time=later,
        data={"clusters": 3},
    )
    assert records.timeline.append(
        "r1",
        "rollout/started",
        actor="github:octocat",
        reason=Reason.ROLLOUT_STARTED,
        message="Rollout of aaaaaaa started",
        time=T0,
    )
    assert not records.timeline.append(
        "r1",
        "wave/canary/started",
        actor="arcwave",
        reason=Reason.WAVE_STARTED,
        message="retried",
        time=later,
    )
    entries = records.timeline.list("r1")
    assert [e.reason for e in entries] == [Reason.ROLLOUT_STARTED, Reason.WAVE_STARTED]
    assert entries[1].data == {"clusters": 3} and entries[1].message.startswith("Applying")
    assert records.timeline.list("r2") == []
