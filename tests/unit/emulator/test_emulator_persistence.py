"""--state: the fleet, its configurations, heads, faults and write log survive a restart."""

from __future__ import annotations

from pathlib import Path

from emulator.backend import Backend
from emulator.persistence import load_state, save_state
from emulator.scenario import Scenario

SCENARIO = {
    "clusters": [{"generate": {"count": 3, "name": "store-{i:03d}"}}],
    "flux": {"reconcileSeconds": {"min": 0, "max": 0}, "progression": "immediate"},
    "arm": {"operationSeconds": 0},
}


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = Backend(Scenario.model_validate(SCENARIO))
    (cluster,) = first.clusters_named("store-002")
    properties = {"gitRepository": {"url": "https://x/y", "repositoryRef": {"branch": "main"}}}
    first.put_configuration(cluster, "baseline", properties, "2023-05-01")
    first.advance()
    first.advance()
    first.move_branch("main", "c0ffee0")
    first.set_connectivity(first.clusters_named("store-003")[0], "Offline")
    first.record_write(cluster.id, cluster.name, "baseline", "PUT", {"branch": "main"}, 201)
    save_state(first, path)

    second = Backend(Scenario.model_validate(SCENARIO))
    assert load_state(second, path)
    (restored,) = second.clusters_named("store-002")
    config = restored.configurations["baseline"]
    assert config.provisioning_state == "Succeeded"
    assert second.flux.branch_heads["main"] == "c0ffee0"
    assert second.clusters_named("store-003")[0].connectivity_status == "Offline"
    assert second.writes[0]["status"] == 201
    second.advance()
    assert config.source_synced_commit_id == "main/c0ffee0"


def test_missing_file_keeps_the_scenario(tmp_path: Path) -> None:
    backend = Backend(Scenario.model_validate(SCENARIO))
    assert not load_state(backend, tmp_path / "absent.json")
    assert len(backend.clusters) == 3
