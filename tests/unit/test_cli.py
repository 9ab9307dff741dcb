"""`arcwave validate` and `arcwave plan`, run as an operator runs them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DEMO_TRACK = ROOT / "scenarios/demo/track.yaml"
DEMO_FLEET = ROOT / "scenarios/demo/fleet.json"
CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-fleet"
    "/providers/Microsoft.Kubernetes/connectedClusters/{}"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_plan_json_is_exactly_the_contract() -> None:
    result = run("plan", "--track", str(DEMO_TRACK), "--fleet", str(DEMO_FLEET), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert list(plan) == ["track", "waves", "excluded", "unassigned", "eta"]
    assert [w["name"] for w in plan["eta"]["waves"]] == ["canary", "early", "broad"]
    assert plan["track"] == "baseline"
    assert [w["name"] for w in plan["waves"]] == ["canary", "early", "broad"]
    for wave in plan["waves"]:
        assert list(wave) == ["name", "clusters", "maxInFlight", "maxPerSite", "rounds"]
        assert sorted(i for b in wave["rounds"] for i in b) == sorted(wave["clusters"])
        assert all(len(b) <= wave["maxInFlight"] for b in wave["rounds"])
    assert plan["waves"][0]["clusters"] == [CLUSTER.format(f"canary-{n}") for n in range(1, 5)]
    assert plan["excluded"] == [
        {"id": CLUSTER.format("store-012"), "reason": "tag arcwave.io/exclude=true: hardware swap"}
    ]
    assert plan["unassigned"] == []


def test_plan_shows_when_each_wave_can_start_and_finish() -> None:
    args = ("plan", "--track", str(DEMO_TRACK), "--fleet", str(DEMO_FLEET))
    result = run(*args, "--start", "2026-12-05T22:00:00Z", "--json")
    assert result.returncode == 0, result.stderr
    eta = json.loads(result.stdout)["eta"]
    assert eta["asOf"] == "2026-12-05T22:00:00.000000Z"
    # canary: one batch of 4 (2m) + soak 30s; early: 3 batches; broad: 2 (the offline one
    # is skipped): 6 reconcile times of the default 2m and the soak.
    assert [w["start"][11:19] for w in eta["waves"]] == ["22:00:00", "22:02:30", "22:08:30"]
    assert [len(w["batches"]) for w in eta["waves"]] == [1, 3, 2]
    assert eta["finish"] == "2026-12-05T22:12:30.000000Z" and eta["duration"] == "PT12M30S"
    assert {w["reconcile"]["source"] for w in eta["waves"]} == {"default"}
    table = run(*args, "--start", "2026-12-05T22:00:00+01:00")
    assert table.returncode == 0, table.stderr
    assert "ETA 2026-12-05 21:12:30Z (in 12m30s, from 2026-12-05 21:00:00Z)" in table.stdout
    assert "early batches" in table.stdout and "batch 3: 2 cluster(s), 21:06:30 → 21:08:30" in (
        table.stdout
    )
    bad = run(*args, "--start", "tomorrow")
    assert bad.returncode == 2 and "--start tomorrow" in bad.stderr


def test_plan_accepts_a_plain_cluster_array(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.json"
    fleet.write_text(
        json.dumps(
            [
                {"id": "a", "name": "a", "tags": {"ring": "canary"}},
                {"id": "b", "name": "b", "tags": {}},
            ]
        )
    )
    track = tmp_path / "track.yaml"
    track.write_text(
        DEMO_TRACK.read_text()
        .replace("resourceGroups: [rg-fleet]", "resourceGroups: []")
        .replace("tags: {env: prod}", "tags: {}")
    )
    result = run("plan", "--track", str(track), "--fleet", str(fleet), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["waves"][0]["clusters"] == ["a"]
    assert plan["waves"][2]["clusters"] == ["b"]


def test_plan_table_is_readable() -> None:
    result = run("plan", "--track", str(DEMO_TRACK), "--fleet", str(DEMO_FLEET))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Plan for track baseline: 23 of 24 clusters in 3 waves, 1 excluded" in out
    assert "canary: selector ring=canary; gates: soak 30s" in out
    assert "round 1" in out and "store-007 (offline)" in out
    assert "in flight" in out
    assert "store-012: tag arcwave.io/exclude=true: hardware swap" in out
    assert "Traceback" not in result.stderr


def test_validate_shows_the_resolved_spec() -> None:
    result = run("validate", "--track", str(DEMO_TRACK))
    assert result.returncode == 0, result.stderr
    assert "is a valid track spec" in result.stdout
    result = run("validate", "--track", str(DEMO_TRACK), "--json")
    assert json.loads(result.stdout)["waves"][2]["maxFailures"] == "10%"


@pytest.mark.parametrize(
    ("replace", "field"),
    [
        (("maxFailures: 10%", "maxFailures: 1O%"), "waves[2].maxFailures"),
        (("soak: 30s", "soak: 30"), "waves[0].soak"),
        (
            ("dependsOn: [infra]", "dependsOn: [infr]"),
            "configuration.kustomizations.apps.dependsOn[0]",
        ),
        (("onFailure: rollback", "onFailure: rolback"), "onFailure"),
        (("{name: early,", "{name: canary,"), "waves[1].name"),
        (("maxConcurrency: 3,", "maxConcurency: 3,"), "waves[1].maxConcurency"),
    ],
)
def test_invalid_track_exits_2_naming_the_field(
    tmp_path: Path, replace: tuple[str, str], field: str
) -> None:
    text = DEMO_TRACK.read_text()
    assert replace[0] in text
    track = tmp_path / "track.yaml"
    track.write_text(text.replace(*replace))
    result = run("plan", "--track", str(track), "--fleet", str(DEMO_FLEET))
    assert result.returncode == 2
    assert f"{field}:" in result.stderr
    assert str(track) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('[{"name": "x"}]', "fleet[0].id: required field is missing"),
        ('{"data": [{"id": "a", "tags": {"ring": 1}}]}', "data[0].tags.ring"),
        ('{"value": []}', "data: a fleet object must be a Resource Graph response"),
        ('[{"id": "a", "name": "a"}, {"id": "a", "name": "b"}]', "fleet[1].id: duplicate"),
        ("[{", "line 1, column 3: not valid JSON"),
    ],
)
def test_invalid_fleet_exits_2_naming_the_field(
    tmp_path: Path, content: str, fragment: str
) -> None:
    fleet = tmp_path / "fleet.json"
    fleet.write_text(content)
    result = run("plan", "--track", str(DEMO_TRACK), "--fleet", str(fleet), "--json")
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_files_exit_2(tmp_path: Path) -> None:
    result = run("plan", "--track", str(tmp_path / "nope.yaml"), "--fleet", str(DEMO_FLEET))
    assert result.returncode == 2
    assert "--track" in result.stderr and "no such file" in result.stderr
    result = run("plan", "--track", str(DEMO_TRACK), "--fleet", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr


def test_usage_errors_exit_2() -> None:
    result = run("plan", "--track", str(DEMO_TRACK))
    assert result.returncode == 2
    assert "--fleet" in result.stderr


def test_main_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--track", str(DEMO_TRACK), "--fleet", str(DEMO_FLEET), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["track"] == "baseline"


def test_the_console_script_is_installed() -> None:
    script = shutil.which("arcwave", path=str(Path(sys.executable).parent))
    assert script, "the arcwave console script is missing from the venv; run `make setup`"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("arcwave ")
