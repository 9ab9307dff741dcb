"""Planner properties over random fleets and specs (hypothesis).

For any fleet and any valid spec: the partition is exact, both caps hold in every round,
rounds are as full as the caps allow, the window never has more clusters in flight than its
caps however clusters settle, waves follow their rules, and the plan does not depend on the
order the fleet arrives in.
"""

import json
import math
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.cluster import Cluster, Connectivity
from shared.forecast import subscription_of
from shared.plan import Plan
from shared.planner import matches, outside_selection, plan_rollout
from shared.trackspec import TrackSpec, validate_track_spec
from shared.window import Window, next_to_write, site_key

SUBS = ["00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"]
RINGS = ["canary", "early", "broad"]
SITES = ["s1", "s2", "s3", "s4", "s5"]


@st.composite
def clusters(draw: st.DrawFn) -> list[Cluster]:
    count = draw(st.integers(min_value=0, max_value=60))
    out = []
    for index in range(count):
        tags: dict[str, str] = {}
        ring = draw(st.sampled_from([*RINGS, None]))
        if ring:
            tags["ring"] = ring
        site = draw(st.sampled_from([*SITES, None]))
        if site:
            tags["site"] = site
        if draw(st.booleans()):
            tags["env"] = draw(st.sampled_from(["prod", "dev"]))
        if draw(st.integers(0, 15)) == 0:
            tags["arcwave.io/exclude"] = "true"
        sub = draw(st.sampled_from(SUBS))
        # Names repeat on purpose: ordering must fall back to ids.
        name = draw(st.sampled_from(["alpha", "beta", "gamma", f"edge-{index}"]))
        out.append(
            Cluster(
                id=f"/subscriptions/{sub}/resourceGroups/rg/providers/"
                f"Microsoft.Kubernetes/connectedClusters/c{index}",
                name=name,
                tags=tags,
                subscription_id=sub,
                resource_group="rg",
                connectivity_status=draw(st.sampled_from([*Connectivity, None])),
            )
        )
    return out


@st.composite
def wave_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    waves: list[dict[str, Any]] = []
    for index in range(draw(st.integers(min_value=1, max_value=4))):
        wave: dict[str, Any] = {"name": f"w{index}"}
        kind = draw(st.sampled_from(["selector", "percent", "rest"]))
        if kind == "selector":
            key = draw(st.sampled_from(["ring", "site"]))
            pool = RINGS if key == "ring" else SITES
            values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
            wave["selector"] = {key: values if len(values) > 1 else values[0]}
        elif kind == "percent":
            wave["percent"] = draw(st.sampled_from([0.5, 1, 10, 25, 33.3, 50, 99, 100]))
        cap = draw(st.one_of(st.none(), st.integers(1, 12), st.sampled_from(["1%", "30%", "100%"])))
        if cap is not None:
            wave["maxConcurrency"] = cap
        per_site = draw(st.one_of(st.none(), st.integers(1, 4)))
        if per_site is not None:
            wave["perSiteConcurrency"] = per_site
        waves.append(wave)
        if kind == "rest":
            break  # a wave after a catch-all wave is refused by the spec
    return waves


@st.composite
def specs(draw: st.DrawFn) -> TrackSpec:
    fleet: dict[str, Any] = {"subscriptions": draw(st.sampled_from([SUBS, SUBS[:1]]))}
    if draw(st.booleans()):
        fleet["tags"] = {"env": draw(st.sampled_from(["prod", ["prod", "dev"]]))}
    return validate_track_spec(
        {
            "name": "prop",
            "source": {"url": "https://github.com/contoso/fleet", "branch": "main"},
            "configuration": {"name": "prop", "kustomizations": {"k": {}}},
            "fleet": fleet,
            "waves": draw(wave_specs()),
        }
    )


def placed_ids(plan: Plan) -> list[str]:
    return [c.id for w in plan.waves for c in w.clusters]


@given(specs(), clusters())
def test_partition_is_exact(spec: TrackSpec, fleet: list[Cluster]) -> None:
    plan = plan_rollout(spec, fleet)
    every = placed_ids(plan) + [e.id for e in plan.excluded] + plan.unassigned
    assert Counter(every) == Counter(c.id for c in fleet)
    for exclusion in plan.excluded:
        assert exclusion.reason
    for wave in plan.waves:
        assert all(c.reason for c in wave.clusters)


@given(specs(), clusters())
def test_excluded_are_exactly_the_opted_out_and_the_unselected(
    spec: TrackSpec, fleet: list[Cluster]
) -> None:
    plan = plan_rollout(spec, fleet)
    expected = {c.id for c in fleet if c.exclusion or outside_selection(spec.fleet, c)}
    assert {e.id for e in plan.excluded} == expected


@given(specs(), clusters())
def test_caps_hold_in_every_round(spec: TrackSpec, fleet: list[Cluster]) -> None:
    plan = plan_rollout(spec, fleet)
    for wave_plan, wave in zip(plan.waves, spec.waves, strict=True):
        size = len(wave_plan.clusters)
        cap = wave.max_concurrency.ceil_of(size) if wave.max_concurrency else size
        site_of = {c.id: c.site for c in wave_plan.clusters}
        assert sorted(i for b in wave_plan.rounds for i in b) == sorted(site_of)
        for batch in wave_plan.rounds:
            assert 1 <= len(batch) <= max(cap, 1)
            if wave.per_site_concurrency:
                sites = Counter(site_of[i] for i in batch if site_of[i] is not None)
                assert all(n <= wave.per_site_concurrency for n in sites.values())


@given(specs(), clusters())
def test_rounds_are_as_full_as_the_caps_allow(spec: TrackSpec, fleet: list[Cluster]) -> None:
    plan = plan_rollout(spec, fleet)
    for wave_plan, wave in zip(plan.waves, spec.waves, strict=True):
        size = len(wave_plan.clusters)
        cap = wave.max_concurrency.ceil_of(size) if wave.max_concurrency else size
        site_of = {c.id: c.site for c in wave_plan.clusters}
        for number, batch in enumerate(wave_plan.rounds[:-1]):
            if len(batch) == cap:
                continue
            in_batch = Counter(site_of[i] for i in batch)
            for later in wave_plan.rounds[number + 1 :]:
                for cluster_id in later:
                    site = site_of[cluster_id]
                    # It could only have waited because its site was at its cap.
                    assert site is not None and wave.per_site_concurrency is not None
                    assert in_batch[site] == wave.per_site_concurrency


@given(specs(), clusters())
def test_within_a_subscription_waves_are_ordered_by_site_then_name(
    spec: TrackSpec, fleet: list[Cluster]
) -> None:
    plan = plan_rollout(spec, fleet)
    for wave in plan.waves:
        for subscription in {subscription_of(c.id) for c in wave.clusters}:
            keys = [
                (c.site is None, c.site or "", c.name, c.id)
                for c in wave.clusters
                if subscription_of(c.id) == subscription
            ]
            assert keys == sorted(keys)


@given(specs(), clusters())
def test_subscriptions_are_interleaved_in_proportion(spec: TrackSpec, fleet: list[Cluster]) -> None:
    plan = plan_rollout(spec, fleet)
    for wave in plan.waves:
        total = Counter(subscription_of(c.id) for c in wave.clusters)
        seen: Counter[str] = Counter()
        for position, cluster in enumerate(wave.clusters, start=1):
            seen[subscription_of(cluster.id)] += 1
            for subscription, count in total.items():
                # Every prefix of the write order holds each subscription's share, ±1.
                assert abs(seen[subscription] - position * count / len(wave.clusters)) <= 1


@given(specs(), clusters())
def test_waves_follow_their_rules(spec: TrackSpec, fleet: list[Cluster]) -> None:
    plan = plan_rollout(spec, fleet)
    by_id = {c.id: c for c in fleet}
    remaining = {c.id for c in fleet} - {e.id for e in plan.excluded}
    for wave_plan, wave in zip(plan.waves, spec.waves, strict=True):
        taken = set(wave_plan.cluster_ids)
        assert taken <= remaining
        if wave.selector is not None:
            assert taken == {i for i in remaining if matches(wave.selector, by_id[i])}
        elif wave.percent is not None:
            expected = math.ceil(round(len(remaining) * wave.percent / 100, 9))
            assert len(taken) == (max(1, expected) if remaining else 0)
        else:
            assert taken == remaining
        remaining -= taken
    assert set(plan.unassigned) == remaining


@given(specs(), clusters(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_input_order(
    spec: TrackSpec, fleet: list[Cluster], rng: Any
) -> None:
    shuffled = fleet[:]
    rng.shuffle(shuffled)
    first, second = plan_rollout(spec, fleet), plan_rollout(spec, shuffled)
    assert first == second
    assert json.dumps(first.summary()) == json.dumps(second.summary())


@given(specs(), clusters(), st.randoms(use_true_random=False))
def test_the_window_never_exceeds_its_caps_and_never_idles(
    spec: TrackSpec, fleet: list[Cluster], rng: Any
) -> None:
    """Settle in-flight clusters in a random order, one at a time, filling the window after
    each: at no instant are more in flight than the caps allow, every cluster is written once,
    in write order within its site, and a free slot stays free only when no pending cluster's
    site has room."""
    plan = plan_rollout(spec, fleet)
    for wave_plan in plan.waves:
        window = Window(wave_plan.max_in_flight, wave_plan.max_per_site)
        pending = [_Slot(c.id, c.site) for c in wave_plan.clusters]
        in_flight: list[_Slot] = []
        written: list[str] = []
        while pending or in_flight:
            chosen = next_to_write(pending, in_flight, window)
            pending = [p for p in pending if p not in chosen]
            in_flight += chosen
            written += [c.cluster_id for c in chosen]
            assert len(in_flight) <= window.max_in_flight
            if window.max_per_site is not None:
                sites = Counter(site_key(c) for c in in_flight)
                assert max(sites.values(), default=0) <= window.max_per_site
            if len(in_flight) < window.max_in_flight and window.max_per_site is not None:
                busy = Counter(site_key(c) for c in in_flight)
                assert all(busy[site_key(p)] >= window.max_per_site for p in pending)
            elif len(in_flight) < window.max_in_flight:
                assert not pending
            in_flight.pop(rng.randrange(len(in_flight)))
        assert sorted(written) == sorted(wave_plan.cluster_ids)
        for site in {c.site for c in wave_plan.clusters}:
            order = [c.id for c in wave_plan.clusters if c.site == site]
            assert [w for w in written if w in set(order)] == order


class _Slot:
    def __init__(self, cluster_id: str, site: str | None) -> None:
        self.cluster_id = cluster_id
        self.site = site
