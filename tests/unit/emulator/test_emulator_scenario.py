"""Scenario files: the issue's format, generated names, round-robin sites, whole-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emulator.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[3]
ISSUE_EXAMPLE = """
subscriptionId: 00000000-0000-0000-0000-000000000001
defaults: {resourceGroup: rg-fleet, location: westeurope}
clusters:
  - {name: canary-1, tags: {ring: canary, site: site-1}}
  - generate: {count: 40, name: "store-{i:03d}", sites: 8, tags: {ring: broad}}
flux:
  branchHeads: {main: 2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e}
  reconcileSeconds: {min: 0.2, max: 1.0}
  failures: [{commit: "bad0", clusters: "*", reason: HealthCheckFailed}]
faults:
  offline: [store-007]
  armErrorRate: 0.0
  throttle: {writes: {bucket: 200, refillPerSecond: 10}, reads: {bucket: 250, refillPerSecond: 25}}
events: {eventGrid: null, flux: null}
"""


def test_issue_example_loads_with_generated_clusters() -> None:
    """The YAML shown in the issue is valid as written."""
    scenario = parse_scenario(ISSUE_EXAMPLE)
    clusters = scenario.expand_clusters()
    assert len(clusters) == 41
    assert [c.name for c in clusters[1:4]] == ["store-001", "store-002", "store-003"]
    assert scenario.faults.throttle is not None
    assert scenario.faults.throttle.writes.bucket == 200
    assert scenario.flux.failures[0].clusters == "*"


def test_generate_spreads_sites_round_robin() -> None:
    """Cluster i goes to site ((i - 1) mod sites) + 1 and keeps the entry's tags."""
    clusters = parse_scenario(ISSUE_EXAMPLE).expand_clusters()[1:]
    assert [c.tags["site"] for c in clusters[:10]] == [
        *(f"site-{n}" for n in range(1, 9)),
        "site-1",
        "site-2",
    ]
    assert all(c.tags["ring"] == "broad" for c in clusters)


def test_defaults_fill_unset_fields() -> None:
    """resourceGroup, location and subscription come from defaults when a cluster omits them."""
    cluster = parse_scenario(ISSUE_EXAMPLE).expand_clusters()[0]
    assert cluster.resource_group == "rg-fleet"
    assert cluster.location == "westeurope"
    assert cluster.subscription_id == "00000000-0000-0000-0000-000000000001"


def test_every_problem_is_reported_at_once() -> None:
    """A bad file names each field that is wrong."""
    with pytest.raises(ValidationError) as caught:
        parse_scenario(
            """
clusters:
  - generate: {count: 0, name: "no-placeholder"}
flux: {reconcileSeconds: {min: 3, max: 1}}
faults: {armErrorRate: 2}
"""
        )
    assert caught.value.error_count() >= 3


def test_duplicate_cluster_names_are_rejected() -> None:
    with pytest.raises(ValidationError, match="defined twice"):
        parse_scenario("clusters: [{name: a}, {name: A}]")


@pytest.mark.parametrize("name", ["demo.yaml", "fleet-5000.yaml"])
def test_shipped_scenarios_load(name: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / name)
    assert scenario.expand_clusters()


def test_demo_has_three_rings_over_four_sites() -> None:
    clusters = load_scenario(ROOT / "scenarios" / "demo.yaml").expand_clusters()
    assert {c.tags["ring"] for c in clusters} == {"canary", "early", "broad"}
    assert {c.tags["site"] for c in clusters} == {f"site-{n}" for n in range(1, 5)}
    assert 20 <= len(clusters) <= 30
