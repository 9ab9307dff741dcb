"""`arcwave tracks diff` and the offline and live `plan`: specs compared as the app stores them,
create-only fields marked, and `--exit-code`."""

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from cli.diff import changes, normalised, recreates
from shared.trackspec import validate_track_spec
from tests.cli.arcwave_support import Arcwave, FakeApp
from tests.support import secret

KEY = secret("cli diff test key", "diff-key-0123456789")
ROOT = Path(__file__).resolve().parents[2]
DEMO_TRACK = ROOT / "scenarios/demo/track.yaml"
DEMO_FLEET = ROOT / "scenarios/demo/fleet.json"


def demo_spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO_TRACK.read_text())
    return data


def stored(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the app stores it: every default filled in."""
    return validate_track_spec(spec).to_wire()


def test_defaults_left_out_of_the_file_are_no_difference() -> None:
    assert changes(stored(demo_spec()), stored(demo_spec())) == []
    assert changes(normalised(stored(demo_spec())), stored(demo_spec())) == []


def test_changes_are_leaves_with_create_only_ones_marked() -> None:
    edited = demo_spec()
    edited["configuration"]["namespace"] = "apps"
    edited["configuration"]["scope"] = "namespace"
    edited["waves"][1]["soak"] = "5m"
    edited["fleet"]["tags"] = {"env": "prod", "tier": "gold"}
    del edited["configuration"]["kustomizations"]["apps"]
    found = {c.path: c for c in changes(stored(demo_spec()), stored(edited))}
    assert found["configuration.namespace"].change == "changed"
    assert found["configuration.namespace"].create_only
    assert found["configuration.scope"].to_wire() == {
        "path": "configuration.scope",
        "change": "changed",
        "before": "cluster",
        "after": "namespace",
        "createOnly": True,
    }
    assert (found["waves[1].soak"].before, found["waves[1].soak"].after) == ("0s", "5m")
    assert not found["waves[1].soak"].create_only
    assert found["fleet.tags.tier"].change == "added"
    assert found["configuration.kustomizations.apps.path"].change == "removed"
    assert [c.path for c in recreates(list(found.values()))] == [
        "configuration.scope",
        "configuration.namespace",
    ]


def test_a_renamed_configuration_is_created_beside_not_recreated() -> None:
    edited = demo_spec()
    edited["configuration"]["name"] = "baseline-v2"
    edited["configuration"]["namespace"] = "apps"
    found = changes(stored(demo_spec()), stored(edited))
    assert {c.path for c in found} >= {"configuration.name", "configuration.namespace"}
    assert recreates(found) == []


def test_against_no_track_everything_is_added() -> None:
    found = changes(None, stored(demo_spec()))
    assert found and {c.change for c in found} == {"added"}


def track_answer(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": spec["name"],
        "spec": stored(spec),
        "currentRevision": None,
        "lastGoodRevision": None,
        "activeRolloutId": None,
        "specVersion": "v1",
        "updatedAt": "2026-11-26T12:00:00.000000Z",
    }


def test_diff_exits_0_with_or_without_differences_unless_asked(
    arcwave: Arcwave, fake_app: FakeApp, tmp_path: Path
) -> None:
    fake_app.answer("GET", "/api/tracks/baseline", 200, track_answer(demo_spec()))
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    same = arcwave("tracks", "diff", "-f", str(DEMO_TRACK), "--exit-code", "-o", "json")
    assert same.code == 0, same
    assert same.json() == {
        "track": "baseline",
        "exists": True,
        "differs": False,
        "changes": [],
        "recreates": [],
    }
    edited = copy.deepcopy(demo_spec())
    edited["configuration"]["namespace"] = "apps"
    file = tmp_path / "track.json"
    file.write_text(json.dumps(edited))
    table = arcwave("tracks", "diff", "-f", str(file))
    assert table.code == 0, table
    assert "configuration.namespace" in table.stdout and "create-only" in table.stdout
    assert "arcwave tracks apply --recreate" in " ".join(table.stdout.split())
    differs = arcwave("tracks", "diff", "-f", str(file), "--exit-code", "-o", "json")
    assert differs.code == 1
    assert differs.json()["recreates"] == ["configuration.namespace"]


def test_diff_against_a_track_the_app_does_not_have(arcwave: Arcwave, fake_app: FakeApp) -> None:
    fake_app.answer("GET", "/api/tracks/baseline", 404, {"error": "no track 'baseline'"})
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    ran = arcwave("tracks", "diff", "-f", str(DEMO_TRACK), "-o", "json")
    assert ran.code == 0, ran
    assert ran.json()["exists"] is False and ran.json()["differs"] is True
    ran = arcwave("tracks", "diff", "-f", str(DEMO_TRACK))
    assert "does not exist on the app" in ran.stdout


def test_an_invalid_file_exits_2_naming_the_field_before_any_request(
    arcwave: Arcwave, fake_app: FakeApp, tmp_path: Path
) -> None:
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO_TRACK.read_text().replace("soak: 30s", "soak: 30"))
    ran = arcwave("tracks", "diff", "-f", str(bad))
    assert ran.code == 2, ran
    assert "waves[0].soak:" in ran.stderr and str(bad) in ran.stderr
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text(DEMO_TRACK.read_text().replace("name: baseline\n", "", 1))
    for command in ("apply", "diff"):
        ran = arcwave("tracks", command, "-f", str(nameless))
        assert ran.code == 2 and "name:" in ran.stderr, ran
        ran = arcwave("tracks", command, "-f", str(tmp_path / "missing.yaml"))
        assert ran.code == 2 and "no such file" in ran.stderr
    not_yaml = tmp_path / "broken.yaml"
    not_yaml.write_text("name: [baseline\n")
    assert arcwave("tracks", "apply", "-f", str(not_yaml)).code == 2
    assert fake_app.sent == []


def test_offline_plan_and_validate_take_output_formats(arcwave: Arcwave) -> None:
    start = ("--start", "2026-12-05T22:00:00Z")  # the ETA counts from it: the same each run
    args = ("plan", "--track", str(DEMO_TRACK), "--fleet", str(DEMO_FLEET), *start)
    as_json = arcwave(*args, "-o", "json")
    assert as_json.code == 0, as_json
    assert as_json.json() == arcwave(*args, "--json").json()
    assert list(as_json.json()) == ["track", "waves", "excluded", "unassigned", "eta"]
    assert yaml.safe_load(arcwave(*args, "-o", "yaml").stdout) == as_json.json()
    spec = arcwave("validate", "--track", str(DEMO_TRACK), "-o", "yaml")
    assert yaml.safe_load(spec.stdout)["waves"][2]["maxFailures"] == "10%"


def test_plan_of_a_file_without_a_fleet_is_a_usage_error(
    arcwave: Arcwave, fake_app: FakeApp
) -> None:
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    ran = arcwave("plan", "--track", str(DEMO_TRACK))
    assert ran.code == 2 and "--fleet" in ran.stderr
    ran = arcwave("plan", "--track", str(DEMO_TRACK), "--fleet", str(DEMO_FLEET), "--revision", "x")
    assert ran.code == 2 and "--revision" in ran.stderr
    assert fake_app.sent == []


def test_the_live_plan_is_drawn_like_the_offline_one(arcwave: Arcwave, fake_app: FakeApp) -> None:
    spec = demo_spec()
    canary = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/"
    plan = {
        "track": "baseline",
        "revision": "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e",
        "waves": [
            {
                "name": wave["name"],
                "clusters": [
                    {
                        "id": canary + f"{wave['name']}-1",
                        "name": f"{wave['name']}-1",
                        "site": "site-1",
                        "offline": False,
                        "reason": "selector",
                    }
                ],
                "maxInFlight": 1,
                "maxPerSite": None,
                "rounds": [[canary + f"{wave['name']}-1"]],
            }
            for wave in spec["waves"]
        ],
        "excluded": [{"id": canary + "store-012", "reason": "tag arcwave.io/exclude=true"}],
        "unassigned": [],
        "offline": [],
    }
    fake_app.answer("POST", "/api/tracks/baseline/plan", 200, plan)
    fake_app.answer("GET", "/api/tracks/baseline", 200, track_answer(spec))
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    ran = arcwave("plan", "--track", "baseline", "--revision", plan["revision"], "-o", "json")
    assert (ran.code, ran.json()) == (0, plan)
    assert json.loads(fake_app.sent[-1].body) == {"revision": plan["revision"]}
    table = arcwave("plan", "--track", "baseline")
    assert table.code == 0, table
    assert "Plan for track baseline: 3 of 4 clusters in 3 waves, 1 excluded" in table.stdout
    assert "canary: selector" in table.stdout and "store-012: tag" in table.stdout
