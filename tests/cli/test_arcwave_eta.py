"""`arcwave` shows the app's ETA: the live plan's per wave and batch, a rollout's in one line;
an app that sends none (older) still draws the rest."""

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.eta import ClusterInput, WaveInput, WriteBudget, simulate
from shared.eta_model import ReconcileEta, ReconcileSource
from tests.cli.arcwave_support import Arcwave, FakeApp
from tests.cli.test_arcwave_diff import KEY, demo_spec, track_answer

AS_OF = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
PREFIX = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/"
ID = "baseline-2b7e0c1-5f3a9c1e"


def eta(names: list[str], *, approval: str | None = None) -> dict[str, Any]:
    """What the app computes for one cluster per wave, 2m each, `approval` before one wave."""
    waves = [
        WaveInput(
            name=name,
            clusters=[ClusterInput(id=PREFIX + f"{name}-1", subscription="s")],
            max_in_flight=1,
            reconcile=ReconcileEta(
                duration=timedelta(minutes=2), source=ReconcileSource.HISTORY, samples=7
            ),
            approval=name == approval,
        )
        for name in names
    ]
    return simulate(waves, WriteBudget(burst=100, per_second=10), AS_OF).to_wire()


def plan_answer(spec: dict[str, Any], with_eta: bool) -> dict[str, Any]:
    names = [w["name"] for w in spec["waves"]]
    answer: dict[str, Any] = {
        "track": "baseline",
        "revision": "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e",
        "waves": [
            {
                "name": name,
                "clusters": [
                    {
                        "id": PREFIX + f"{name}-1",
                        "name": f"{name}-1",
                        "site": "site-1",
                        "offline": False,
                        "reason": "selector",
                    }
                ],
                "maxInFlight": 1,
                "maxPerSite": None,
                "rounds": [[PREFIX + f"{name}-1"]],
            }
            for name in names
        ],
        "excluded": [],
        "unassigned": [],
        "offline": [],
    }
    if with_eta:
        answer["eta"] = eta(names, approval="early")
    return answer


def test_the_live_plan_shows_each_wave_and_batch_at_the_earliest(
    arcwave: Arcwave, fake_app: FakeApp
) -> None:
    spec = demo_spec()
    plan = plan_answer(spec, with_eta=True)
    fake_app.answer("POST", "/api/tracks/baseline/plan", 200, plan)
    fake_app.answer("GET", "/api/tracks/baseline", 200, track_answer(spec))
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    as_json = arcwave("plan", "--track", "baseline", "-o", "json")
    assert as_json.code == 0 and as_json.json()["eta"] == plan["eta"]
    table = arcwave("plan", "--track", "baseline")
    assert table.code == 0, table
    out = table.stdout
    assert "ETA 2026-12-05 22:06:00Z (in 6m, from 2026-12-05 22:00:00Z)" in out
    assert "2m (history, 7 samples)" in out
    assert "approval: unknown wait" in out
    assert "early batches\n  batch 1: 1 cluster(s), 22:02:00 → 22:04:00" in out


def test_a_live_plan_without_an_eta_is_still_drawn(arcwave: Arcwave, fake_app: FakeApp) -> None:
    spec = demo_spec()
    fake_app.answer("POST", "/api/tracks/baseline/plan", 200, plan_answer(spec, with_eta=False))
    fake_app.answer("GET", "/api/tracks/baseline", 200, track_answer(spec))
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    table = arcwave("plan", "--track", "baseline")
    assert table.code == 0, table
    assert "Plan for track baseline" in table.stdout and "ETA" not in table.stdout


def test_a_running_rollout_shows_its_eta(arcwave: Arcwave, fake_app: FakeApp) -> None:
    detail = {
        "id": ID,
        "track": "baseline",
        "revision": "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e",
        "previousRevision": None,
        "state": "Running",
        "reason": "WaveStarted",
        "message": "",
        "trigger": {"kind": "api", "actor": "function-key"},
        "specVersion": "v1",
        "clusters": None,
        "createdAt": "2026-12-05T21:50:00.000000Z",
        "updatedAt": "2026-12-05T22:00:00.000000Z",
        "waves": [
            {
                "name": name,
                "maxInFlight": 1,
                "maxPerSite": None,
                "state": "Applying",
                "reason": None,
                "message": "",
                "clusters": [],
            }
            for name in ("canary", "broad")
        ],
        "eta": eta(["canary", "broad"], approval="broad"),
    }
    fake_app.answer("GET", f"/api/rollouts/{ID}", 200, detail)
    arcwave.env.update(ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY)
    ran = arcwave("rollouts", "get", ID)
    assert ran.code == 0, ran
    assert "ETA 2026-12-05 22:04:00Z (in 4m, at the earliest)" in ran.stdout
    assert "wave 'broad' approval: unknown wait" in ran.stdout
