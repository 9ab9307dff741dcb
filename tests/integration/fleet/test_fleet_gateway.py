"""The fleet gateway against the emulator with the real azure-mgmt clients over TLS (a
write's deadline included: past it, nothing reaches the emulator)."""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fleet_support import BAD, HEAD, OLDER, SUBSCRIPTION, cluster_id, settings_for

from emulator.testing import Emulator
from shared.adapters import fleet
from shared.adapters.arm import map_arm_error
from shared.adapters.fleet import FleetGateway
from shared.cluster import Connectivity
from shared.desired import desired_configuration, pin_patch
from shared.errors import ArcwaveError, Throttled
from shared.ratelimit import BucketRegistry, TokenBucket
from shared.reasons import Reason
from shared.states import HealthState
from shared.trackspec import FleetSelection, TrackSpec, validate_track_spec
from tests.support import eventually

pytestmark = pytest.mark.integration


def spec(configuration: str = "baseline") -> TrackSpec:
    return validate_track_spec(
        {
            "name": "baseline",
            "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
            "configuration": {
                "name": configuration,
                "namespace": "flux-system",
                "kustomizations": {"infra": {"path": "./infra"}, "apps": {"dependsOn": ["infra"]}},
            },
            "fleet": {"subscriptions": [SUBSCRIPTION]},
            "waves": [{"name": "all"}],
        }
    )


def test_discovery_pages_through_the_whole_selection(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    clusters = gateway.discover(
        FleetSelection(
            subscriptions=[SUBSCRIPTION], resource_groups=["rg-fleet"], tags={"env": "prod"}
        )
    )
    names = {c.name for c in clusters}
    assert len(clusters) == 1202  # 2 canaries + 1200 stores; dev-1 and lab-1 left out
    assert "dev-1" not in names and "lab-1" not in names
    store = next(c for c in clusters if c.name == "store-0011")
    assert store.tags == {"ring": "broad", "env": "prod", "site": "site-1"}
    assert store.subscription_id == SUBSCRIPTION
    assert store.resource_group == "rg-fleet"
    offline = [c.name for c in clusters if c.is_offline]
    assert offline == ["store-0007"]


def test_discovery_with_tag_lists_and_no_group_filter(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    clusters = gateway.discover(
        FleetSelection(subscriptions=[SUBSCRIPTION], tags={"ring": ["canary"]})
    )
    assert sorted(c.name for c in clusters) == ["canary-1", "canary-2", "dev-1"]


def test_put_then_observe_until_healthy(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    wave = [cluster_id(f"store-{i:04d}") for i in range(100, 130)]
    outcomes = gateway.write_many(wave, "baseline", desired_configuration(spec(), HEAD))
    assert [o.ok for o in outcomes] == [True] * len(wave)
    assert [o.cluster_id for o in outcomes] == wave

    def all_healthy() -> bool:
        health = gateway.observe(HEAD, "baseline", wave)
        return all(h.state is HealthState.HEALTHY for h in health.values())

    eventually(all_healthy, timeout=30)
    direct = gateway.read_configuration(wave[0], "baseline")
    assert direct is not None and direct["properties"]["complianceState"] == "Compliant"
    assert direct["systemData"]["lastModifiedBy"]
    writes = [w for w in big_fleet.control.writes() if w["cluster"] in {"store-0100", "store-0129"}]
    assert {(w["method"], w["commit"], w["branch"]) for w in writes} == {("PUT", HEAD, "main")}


def test_a_failing_commit_is_reported_failed_and_a_restore_recovers(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    canaries = [cluster_id("canary-1"), cluster_id("canary-2")]
    assert all(
        o.ok for o in gateway.write_many(canaries, "baseline", desired_configuration(spec(), BAD))
    )

    def failed() -> dict[str, object]:
        health = gateway.observe(BAD, "baseline", canaries)
        return health if all(h.state is HealthState.FAILED for h in health.values()) else {}

    verdicts = eventually(failed, timeout=30)
    assert {h.reason for h in verdicts.values()} == {Reason.HEALTH_CHECK_FAILED}

    assert all(
        o.ok for o in gateway.write_many(canaries, "baseline", desired_configuration(spec(), OLDER))
    )
    eventually(
        lambda: all(
            h.state is HealthState.HEALTHY
            for h in gateway.observe(OLDER, "baseline", canaries).values()
        ),
        timeout=30,
    )


def test_offline_and_missing_clusters(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    offline, missing = cluster_id("store-0007"), cluster_id("no-such-cluster")
    health = gateway.observe(HEAD, "baseline", [offline])
    assert health[offline].state is HealthState.OFFLINE
    assert health[offline].reason is Reason.CLUSTER_OFFLINE
    # Offline clusters accept writes (ARM does); they reconcile when they return.
    assert gateway.put(offline, "baseline", desired_configuration(spec(), HEAD)).ok
    outcome = gateway.put(missing, "baseline", desired_configuration(spec(), HEAD))
    assert (outcome.ok, outcome.error) == (False, "NotFound")
    assert "no-such-cluster" in outcome.message


def test_remove_deletes_the_configuration(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    target = cluster_id("store-0500")
    assert gateway.put(target, "remove-me", desired_configuration(spec("remove-me"), HEAD)).ok
    assert gateway.read_configuration(target, "remove-me") is not None
    assert gateway.remove(target, "remove-me").ok
    assert eventually(lambda: gateway.read_configuration(target, "remove-me") is None)


def test_an_invalid_body_is_refused_with_azure_s_reason(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    body = desired_configuration(spec(), HEAD)
    body["properties"]["kustomizations"]["apps"]["dependsOn"] = ["missing"]
    outcome = gateway.put(cluster_id("store-0600"), "baseline", body)
    assert (outcome.ok, outcome.error) == (False, "Invalid")
    assert "missing" in outcome.message


def test_throttling_is_absorbed_by_the_write_bucket(
    make_emulator: Callable[..., Emulator], gateway_for: Callable[..., FleetGateway]
) -> None:
    emulator = make_emulator(
        stores=60,
        faults={"throttle": {"writes": {"bucket": 10, "refillPerSecond": 20}}},
    )
    # Same rate as the server, half its burst: the headroom absorbs network jitter.
    gateway = gateway_for(emulator, arm_writes_per_second=20, arm_write_burst=5)
    wave = [cluster_id(f"store-{i:04d}") for i in range(1, 61)]
    outcomes = gateway.write_many(wave, "baseline", desired_configuration(spec(), HEAD))
    assert all(o.ok for o in outcomes), [o.message for o in outcomes if not o.ok]
    statuses = Counter(w["status"] for w in emulator.control.writes())
    assert statuses[429] == 0, statuses


def test_a_429_that_still_comes_pauses_writes_and_every_write_lands(
    make_emulator: Callable[..., Emulator], gateway_for: Callable[..., FleetGateway]
) -> None:
    emulator = make_emulator(
        stores=20,
        faults={"throttle": {"writes": {"bucket": 5, "refillPerSecond": 4}}},
    )
    # The gateway believes it may send far more than the emulator allows: 16 writes go out
    # at once against a bucket of 5, so ARM's 429s are certain.
    gateway = gateway_for(emulator, arm_writes_per_second=1000, arm_write_burst=1000)
    wave = [cluster_id(f"store-{i:04d}") for i in range(1, 21)]
    outcomes = gateway.write_many(wave, "baseline", desired_configuration(spec(), HEAD))
    assert all(o.ok for o in outcomes), [o.message for o in outcomes if not o.ok]
    statuses = Counter(w["status"] for w in emulator.control.writes())
    assert statuses[429] >= 1
    assert sum(1 for w in emulator.control.writes() if w["status"] in (200, 201)) == 20


def test_writes_whose_token_comes_after_their_deadline_never_reach_arm(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(stores=8)
    start = datetime(2024, 1, 1, 2, 59, 59, 500000, tzinfo=UTC)
    close = start + timedelta(seconds=0.5)
    elapsed = [0.0]  # a virtual clock: the bucket's waits move it, nothing sleeps

    def sleep(seconds: float) -> None:
        elapsed[0] += seconds

    bucket = TokenBucket(1.0, 4, clock=lambda: elapsed[0], sleep=sleep)
    gateway = FleetGateway(
        settings_for(emulator, tmp_path),
        buckets=BucketRegistry(lambda: bucket),
        sleep=sleep,
        now=lambda: start + timedelta(seconds=elapsed[0]),
    )
    wave = [cluster_id(f"store-{i:04d}") for i in range(1, 9)]
    outcomes = gateway.write_many(
        wave,
        "baseline",
        desired_configuration(spec(), HEAD),
        max_workers=1,
        deadlines=dict.fromkeys(wave, close),
    )
    assert [o.error for o in outcomes] == [None] * 4 + [fleet.WINDOW_CLOSED] * 4
    # The emulator's write log: the four writes whose token came before the close, no more.
    assert [w["cluster"] for w in emulator.control.writes()] == [
        f"store-{i:04d}" for i in range(1, 5)
    ]
    assert bucket.available == pytest.approx(1.0)  # the fifth write's token came back


def test_connectivity_changes_show_in_the_next_observation(
    make_emulator: Callable[..., Emulator], gateway_for: Callable[..., FleetGateway]
) -> None:
    emulator = make_emulator(stores=3)
    gateway = gateway_for(emulator)
    target = cluster_id("store-0002")
    emulator.control.set_connectivity("store-0002", "Offline")
    assert gateway.observe(HEAD, "baseline", [target])[target].state is HealthState.OFFLINE
    emulator.control.set_connectivity("store-0002", "Connected")
    assert gateway.observe(HEAD, "baseline", [target])[target].state is HealthState.PROGRESSING
    [cluster] = [
        c
        for c in gateway.discover(FleetSelection(subscriptions=[SUBSCRIPTION]))
        if c.name == "store-0002"
    ]
    assert cluster.connectivity_status is Connectivity.CONNECTED


def test_a_pin_patch_moves_only_the_pin(
    big_fleet: Emulator, gateway_for: Callable[..., FleetGateway]
) -> None:
    gateway = gateway_for(big_fleet)
    target = cluster_id("store-0700")
    assert gateway.put(target, "baseline", desired_configuration(spec(), OLDER)).ok
    assert gateway.patch(target, "baseline", pin_patch(spec(), HEAD)).ok
    got = gateway.read_configuration(target, "baseline")
    assert got is not None
    git = got["properties"]["gitRepository"]
    assert (git["repositoryRef"]["branch"], git["repositoryRef"]["commit"]) == ("main", HEAD)
    assert got["properties"]["kustomizations"].keys() == {"infra", "apps"}
    methods = [w["method"] for w in big_fleet.control.writes() if w["cluster"] == "store-0700"]
    assert methods == ["PUT", "PATCH"]
    missing = gateway.patch(cluster_id("store-0701"), "baseline", pin_patch(spec(), HEAD))
    assert (missing.ok, missing.error) == (False, "NotFound")


def test_resource_graph_is_paced_on_its_quota_headers(
    make_emulator: Callable[..., Emulator],
    gateway_for: Callable[..., FleetGateway],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(
        stores=1000,
        faults={"throttle": {"resourceGraph": {"queries": 5, "windowSeconds": 2}}},
    )
    throttled: list[str] = []

    def counting(error: Exception, doing: str) -> ArcwaveError:
        mapped = map_arm_error(error, doing)
        if isinstance(mapped, Throttled):
            throttled.append(str(mapped))
        return mapped

    monkeypatch.setattr(fleet, "map_arm_error", counting)
    gateway = gateway_for(emulator)
    ids = [cluster_id(f"store-{i:04d}") for i in range(1, 1001)]
    health = gateway.observe(HEAD, "baseline", ids)  # 10 queries against 5 per 2 s
    assert len(health) == 1000
    assert throttled == []
