"""The planner's rules on small, readable fleets."""

import random
from typing import Any

import pytest

from shared.cluster import Cluster, Connectivity
from shared.plan import Placement
from shared.planner import plan_rollout, write_rounds
from shared.trackspec import TrackSpec, validate_track_spec

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-000000000002"


def spec(waves: list[dict[str, Any]], **fleet: Any) -> TrackSpec:
    return validate_track_spec(
        {
            "name": "baseline",
            "source": {"url": "https://github.com/contoso/fleet", "branch": "main"},
            "configuration": {"name": "baseline", "kustomizations": {"infra": {}}},
            "fleet": {"subscriptions": [SUB], **fleet},
            "waves": waves,
        }
    )


def cluster(name: str, sub: str = SUB, rg: str = "rg", **tags: str) -> Cluster:
    cluster_id = (
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Kubernetes/"
        f"connectedClusters/{name}"
    )
    return Cluster(id=cluster_id, name=name, subscription_id=sub, resource_group=rg, tags=tags)


def names(ids: list[str]) -> list[str]:
    return [i.rsplit("/", 1)[-1] for i in ids]


def test_selector_waves_take_matching_clusters_in_spec_order() -> None:
    fleet = [
        cluster("c1", ring="canary"),
        cluster("e1", ring="early"),
        cluster("e2", ring="early"),
        cluster("b1", ring="broad"),
    ]
    plan = plan_rollout(
        spec(
            [
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "early", "selector": {"ring": "early"}},
                {"name": "broad"},
            ]
        ),
        fleet,
    )
    assert [names(w.cluster_ids) for w in plan.waves] == [["c1"], ["e1", "e2"], ["b1"]]
    assert plan.waves[0].clusters[0].reason == "selector ring=canary"
    assert plan.waves[2].clusters[0].reason == "remaining clusters"
    assert plan.excluded == [] and plan.unassigned == []


def test_a_list_value_in_a_selector_means_any_of() -> None:
    fleet = [cluster("a", ring="canary"), cluster("b", ring="pilot"), cluster("c", ring="x")]
    plan = plan_rollout(
        spec([{"name": "first", "selector": {"ring": ["canary", "pilot"]}}, {"name": "rest"}]),
        fleet,
    )
    assert names(plan.waves[0].cluster_ids) == ["a", "b"]
    assert plan.waves[0].clusters[0].reason == "selector ring=canary|pilot"


def test_selectors_only_take_clusters_not_yet_placed() -> None:
    fleet = [cluster("a", ring="canary", site="s1"), cluster("b", site="s1")]
    plan = plan_rollout(
        spec(
            [
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "site1", "selector": {"site": "s1"}},
            ]
        ),
        fleet,
    )
    assert [names(w.cluster_ids) for w in plan.waves] == [["a"], ["b"]]


def test_percent_takes_a_rounded_up_share_of_what_remains() -> None:
    fleet = [cluster(f"c{i:02d}") for i in range(42)]
    plan = plan_rollout(spec([{"name": "pilot", "percent": 10}, {"name": "rest"}]), fleet)
    assert len(plan.waves[0].clusters) == 5
    assert plan.waves[0].clusters[0].reason == "percent 10 of 42 remaining"
    assert len(plan.waves[1].clusters) == 37


def test_percent_takes_at_least_one_cluster_when_any_remain() -> None:
    plan = plan_rollout(
        spec([{"name": "pilot", "percent": 1}, {"name": "rest"}]), [cluster("a"), cluster("b")]
    )
    assert len(plan.waves[0].clusters) == 1


def test_percent_of_nothing_is_an_empty_wave() -> None:
    plan = plan_rollout(spec([{"name": "all"}]), [])
    assert plan.waves[0].clusters == [] and plan.waves[0].rounds == []


def test_percent_choice_is_spread_by_a_stable_hash_not_by_name_order() -> None:
    fleet = [cluster(f"c{i:03d}", site=f"s{i // 25}") for i in range(100)]
    chosen = names(
        plan_rollout(spec([{"name": "pilot", "percent": 20}, {"name": "rest"}]), fleet)
        .waves[0]
        .cluster_ids
    )
    assert len(chosen) == 20
    assert chosen != [f"c{i:03d}" for i in range(20)]
    assert len({int(n[1:]) // 25 for n in chosen}) > 1  # more than one site


def test_excluded_tag_and_fleet_selection_leave_clusters_out_with_reasons() -> None:
    fleet = [
        cluster("in", env="prod"),
        cluster("tagged-out", env="prod", **{"arcwave.io/exclude": "true"}),
        cluster("other-sub", sub=OTHER_SUB, env="prod"),
        cluster("other-rg", rg="rg-lab", env="prod"),
        cluster("dev", env="dev"),
        cluster("untagged"),
    ]
    plan = plan_rollout(spec([{"name": "all"}], resourceGroups=["RG"], tags={"env": "prod"}), fleet)
    assert names(plan.waves[0].cluster_ids) == ["in"]
    reasons = {names([e.id])[0]: e.reason for e in plan.excluded}
    assert reasons == {
        "tagged-out": "tag arcwave.io/exclude=true",
        "other-sub": f"subscription {OTHER_SUB} is not in fleet.subscriptions",
        "other-rg": "resource group rg-lab is not in fleet.resourceGroups",
        "dev": "tag env=prod wanted, 'dev' found (fleet.tags)",
        "untagged": "tag env=prod wanted, missing found (fleet.tags)",
    }


def test_clusters_no_wave_takes_are_unassigned_not_dropped() -> None:
    fleet = [cluster("a", ring="canary"), cluster("b", ring="other")]
    plan = plan_rollout(spec([{"name": "canary", "selector": {"ring": "canary"}}]), fleet)
    assert names(plan.unassigned) == ["b"]


def test_clusters_are_ordered_by_site_then_name_with_unsited_last() -> None:
    fleet = [
        cluster("zeta", site="b"),
        cluster("alpha", site="b"),
        cluster("nosite"),
        cluster("mid", site="a"),
    ]
    plan = plan_rollout(spec([{"name": "all"}]), fleet)
    assert names(plan.waves[0].cluster_ids) == ["mid", "alpha", "zeta", "nosite"]
    assert [c.site for c in plan.waves[0].clusters] == ["a", "b", "b", None]


def test_site_tag_is_configurable() -> None:
    fleet = [cluster("x", store="2"), cluster("y", store="1")]
    plan = plan_rollout(spec([{"name": "all"}], siteTag="store"), fleet)
    assert names(plan.waves[0].cluster_ids) == ["y", "x"]


def test_max_concurrency_count_sets_the_window_and_its_rounds() -> None:
    fleet = [cluster(f"c{i}") for i in range(7)]
    plan = plan_rollout(spec([{"name": "all", "maxConcurrency": 3}]), fleet)
    assert plan.waves[0].max_in_flight == 3
    assert [len(b) for b in plan.waves[0].rounds] == [3, 3, 1]


def test_max_concurrency_percent_rounds_up_and_is_at_least_one() -> None:
    fleet = [cluster(f"c{i}") for i in range(7)]
    plan = plan_rollout(spec([{"name": "all", "maxConcurrency": "30%"}]), fleet)
    assert plan.waves[0].max_in_flight == 3
    assert [len(b) for b in plan.waves[0].rounds] == [3, 3, 1]
    plan = plan_rollout(spec([{"name": "all", "maxConcurrency": "1%"}]), fleet)
    assert plan.waves[0].max_in_flight == 1
    assert [len(b) for b in plan.waves[0].rounds] == [1] * 7


def test_without_caps_the_whole_wave_is_in_flight_at_once() -> None:
    fleet = [cluster(f"c{i}") for i in range(5)]
    wave = plan_rollout(spec([{"name": "all"}]), fleet).waves[0]
    assert (wave.max_in_flight, len(wave.rounds)) == (5, 1)


def test_per_site_concurrency_spreads_rounds_over_sites() -> None:
    fleet = [cluster(f"a{i}", site="a") for i in range(4)] + [cluster("b0", site="b")]
    plan = plan_rollout(spec([{"name": "all", "perSiteConcurrency": 2}]), fleet)
    assert [names(b) for b in plan.waves[0].rounds] == [["a0", "a1", "b0"], ["a2", "a3"]]


def test_both_caps_hold_together() -> None:
    fleet = [cluster(f"{s}{i}", site=s) for s in "abc" for i in range(3)]
    plan = plan_rollout(
        spec([{"name": "all", "maxConcurrency": 4, "perSiteConcurrency": 1}]), fleet
    )
    assert [names(b) for b in plan.waves[0].rounds] == [
        ["a0", "b0", "c0"],
        ["a1", "b1", "c1"],
        ["a2", "b2", "c2"],
    ]
    plan = plan_rollout(
        spec([{"name": "all", "maxConcurrency": 2, "perSiteConcurrency": 2}]), fleet
    )
    assert [names(b) for b in plan.waves[0].rounds] == [
        ["a0", "a1"],
        ["a2", "b0"],
        ["b1", "b2"],
        ["c0", "c1"],
        ["c2"],
    ]


def test_clusters_without_a_site_share_no_site_cap() -> None:
    fleet = [cluster(f"n{i}") for i in range(3)]
    plan = plan_rollout(spec([{"name": "all", "perSiteConcurrency": 1}]), fleet)
    assert [len(b) for b in plan.waves[0].rounds] == [3]


def test_offline_clusters_are_planned_and_marked() -> None:
    offline = cluster("off").model_copy(update={"connectivity_status": Connectivity.OFFLINE})
    plan = plan_rollout(spec([{"name": "all"}]), [cluster("on"), offline])
    assert names(plan.offline) == ["off"]
    assert [c.offline for c in plan.waves[0].clusters] == [True, False]


def test_the_same_input_in_any_order_gives_the_same_plan() -> None:
    fleet = [cluster(f"c{i}", site=f"s{i % 3}", ring=["canary", "x"][i % 2]) for i in range(30)]
    track = spec(
        [
            {"name": "canary", "selector": {"ring": "canary"}, "maxConcurrency": 2},
            {"name": "pilot", "percent": 25, "perSiteConcurrency": 1},
            {"name": "rest", "maxConcurrency": "40%"},
        ]
    )
    expected = plan_rollout(track, fleet)
    for seed in range(5):
        shuffled = fleet[:]
        random.Random(seed).shuffle(shuffled)
        assert plan_rollout(track, shuffled) == expected


def test_summary_is_the_cli_json_contract() -> None:
    fleet = [cluster("a", ring="canary"), cluster("x", **{"arcwave.io/exclude": "true"})]
    plan = plan_rollout(spec([{"name": "canary", "selector": {"ring": "canary"}}]), fleet)
    a, x = fleet[0].id, fleet[1].id
    assert plan.summary() == {
        "track": "baseline",
        "waves": [
            {
                "name": "canary",
                "clusters": [a],
                "maxInFlight": 1,
                "maxPerSite": None,
                "rounds": [[a]],
            }
        ],
        "excluded": [{"id": x, "reason": "tag arcwave.io/exclude=true"}],
        "unassigned": [],
    }


@pytest.mark.parametrize("cap", [1, 2, 5])
def test_write_rounds_keep_order_within_a_site(cap: int) -> None:
    placements = [
        Placement(id=f"s{i % 2}-{i}", name="n", site=f"s{i % 2}", reason="r") for i in range(10)
    ]
    ordered = sorted(placements, key=lambda p: (p.site, p.id))
    rounds = write_rounds(ordered, cap, None)
    flat = [i for b in rounds for i in b]
    assert flat == [p.id for p in ordered]
