"""Fail safe, measured from the outside: ARM outages ridden out or ending in a recorded, rolled
back failure; caps that bound the clusters at risk (from the emulator's write log and each
cluster's settle time); a running rollout that keeps its spec while the track is edited; a
configuration arcwave did not create put back; the longest names within instance-id limits.

Everything goes through the public API (and a signed GitHub push), as a user would."""

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from rollout_support import (
    GOOD,
    GOOD2,
    GOOD3,
    Stack,
    github_push,
    running_stack,
    signed_github,
    track_spec,
    written_at,
)

from devhost.testing import DevHost
from shared.names import MAX_INSTANCE_ID
from tests.support import HAND_MADE_CONFIGURATION, eventually

pytestmark = pytest.mark.e2e

FAST_RETRIES = {
    "ARCWAVE_RETRY_FIRST_SECONDS": "0.5",
    "ARCWAVE_RETRY_MAX_INTERVAL_SECONDS": "2",
    "ARCWAVE_RETRY_HORIZON_SECONDS": "120",
}
TERMINAL = {"Succeeded", "Failed", "RolledBack", "Aborted", "Superseded"}


def api(stack: Stack, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    return stack.host.request(
        method,
        f"/api/{path}",
        body,
        headers={"x-functions-key": stack.host.function_key, **headers},
    )


def start(stack: Stack, revision: str, track: str = "baseline") -> str:
    code, body = api(stack, "POST", f"tracks/{track}/rollouts", {"revision": revision})
    assert code == 202, body
    return str(body["rolloutId"])


def rollout(stack: Stack, rollout_id: str) -> dict[str, Any]:
    code, body = api(stack, "GET", f"rollouts/{rollout_id}")
    return body if code == 200 else {}


def wait(
    stack: Stack, rollout_id: str, check: Any = None, timeout: float = 180.0
) -> dict[str, Any]:
    """Poll the API until the rollout ends (or `check(detail)` holds); its detail."""

    def there() -> dict[str, Any] | None:
        detail = rollout(stack, rollout_id)
        done = detail and (check(detail) if check else detail["state"] in TERMINAL)
        return detail if done else None

    return eventually(
        there,
        timeout=timeout,
        interval=0.2,
        what=f"rollout {rollout_id} got there",
        context=lambda: str(rollout(stack, rollout_id)),
    )


def timeline(stack: Stack, rollout_id: str) -> list[dict[str, Any]]:
    return list(api(stack, "GET", f"rollouts/{rollout_id}/timeline")[1]["timeline"])


def wave(detail: dict[str, Any], name: str) -> dict[str, Any]:
    """A wave of a rollout's detail; empty before the rollout is planned."""
    return next((w for w in detail.get("waves", []) if w["name"] == name), {})


def writing(name: str) -> Any:
    return lambda detail: wave(detail, name).get("state") in ("Applying", "Progressing")


def last_commits(stack: Stack) -> dict[str, str | None]:
    final: dict[str, str | None] = {}
    for write in stack.writes():
        if write["status"] < 300:
            final[write["cluster"]] = write["commit"] if write["method"] != "DELETE" else None
    return final


def register(stack: Stack, track: str = "baseline", **spec: Any) -> dict[str, Any]:
    code, body = api(stack, "PUT", f"tracks/{track}", track_spec(**spec))
    assert code in (200, 201), body
    return dict(body)


SLOW_BROAD = {"slow": [{"clusters": "store-*", "factor": 10}]}


def in_the_broad_wave(stack: Stack) -> str:
    """GOOD rolled out; a rollout of GOOD2 writing its broad wave, slowly: its id."""
    register(stack)
    assert wait(stack, start(stack, GOOD))["state"] == "Succeeded"
    second = start(stack, GOOD2)
    wait(stack, second, writing("broad"))
    return second


def test_arm_failing_for_a_minute_mid_wave_is_ridden_out(tmp_path: Path) -> None:
    with running_stack(tmp_path, env=FAST_RETRIES, faults=SLOW_BROAD) as stack:
        second = in_the_broad_wave(stack)
        stack.emulator.control.patch_faults(armErrorRate=1.0)
        time.sleep(60)
        during = rollout(stack, second)
        stack.emulator.control.patch_faults(armErrorRate=0.0)
        # A minute without ARM stalled the rollout (its steps kept failing) but did not end it.
        assert during["state"] == "Running" and wave(during, "broad")["state"] != "Succeeded"
        detail = wait(stack, second)
        assert detail["state"] == "Succeeded", detail["message"]
        assert not any(e["reason"] == "StepFailed" for e in timeline(stack, second))
        assert set(last_commits(stack).values()) == {GOOD2}


def test_arm_failing_past_the_horizon_fails_rolls_back_and_frees_the_track(
    tmp_path: Path,
) -> None:
    env = {**FAST_RETRIES, "ARCWAVE_RETRY_HORIZON_SECONDS": "8"}
    with running_stack(tmp_path, env=env, faults=SLOW_BROAD) as stack:
        second = in_the_broad_wave(stack)
        stack.emulator.control.patch_faults(armErrorRate=1.0)
        eventually(
            lambda: any(e["reason"] == "StepFailed" for e in timeline(stack, second)),
            timeout=60,
            interval=0.2,
            what="the step gave up",
        )
        stack.emulator.control.patch_faults(armErrorRate=0.0)  # ARM is back for the rollback
        detail = wait(stack, second)
        assert (detail["state"], detail["reason"]) == ("Failed", "StepFailed")
        # "failed after N attempts", or plain "failed" when one attempt (its writes retried
        # inside the gateway) already outlasted the horizon on a busy machine
        assert re.search(
            r"step 'advance_wave' \(wave 'broad'\) failed( after \d+ attempts)?: ",
            detail["message"],
        ), detail["message"]
        assert "restored" in detail["message"]
        assert set(last_commits(stack).values()) == {GOOD}
        code, track = api(stack, "GET", "tracks/baseline")
        assert track["activeRolloutId"] is None and track["lastGoodRevision"] == GOOD
        body = json.dumps(github_push(GOOD3, previous=GOOD2)).encode()
        code, pushed = stack.host.request(
            "POST", "/api/hooks/github", raw=body, headers=signed_github(body, "after-outage")
        )
        assert code == 202, pushed
        third = pushed["tracks"][0]["rolloutId"]
        assert wait(stack, third)["state"] == "Succeeded"
        code, answer = api(stack, "POST", f"rollouts/{second}/abort")
        assert code == 409 and "Failed" in answer["error"]


def in_flight_peaks(
    writes: list[dict[str, Any]], settled: dict[str, datetime], site: dict[str, str], commit: str
) -> tuple[int, int]:
    """Most clusters between their write of `commit` and their verdict, overall and per site."""
    events: list[tuple[datetime, int, str]] = []
    seen: set[str] = set()
    for write in writes:
        name = write["cluster"]
        ours = name in site and write["commit"] == commit and write["status"] < 300
        if ours and name not in seen:
            seen.add(name)
            events.append((written_at(write), 1, name))
            events.append((settled[name], -1, name))
    peak = peak_site = 0
    live: dict[str, int] = {}
    for _, delta, name in sorted(events):
        live[site[name]] = live.get(site[name], 0) + delta
        peak = max(peak, sum(live.values()))
        peak_site = max(peak_site, max(live.values()))
    return peak, peak_site


def test_the_caps_bound_the_clusters_between_write_and_verdict(tmp_path: Path) -> None:
    with running_stack(tmp_path, env=FAST_RETRIES) as stack:
        register(
            stack,
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}, "maxConcurrency": 1},
                {"name": "early", "selector": {"ring": "early"}, "maxConcurrency": 2},
                {"name": "broad", "maxConcurrency": 2, "perSiteConcurrency": 1},
            ],
        )
        rollout_id = start(stack, GOOD)
        detail = wait(stack, rollout_id)
        assert detail["state"] == "Succeeded", detail["message"]
        writes = stack.writes()
        for name, cap, site_cap in (("canary", 1, 1), ("early", 2, 2), ("broad", 2, 1)):
            clusters = wave(detail, name)["clusters"]
            settled = {c["name"]: datetime.fromisoformat(c["settledAt"]) for c in clusters}
            site = {c["name"]: c["site"] for c in clusters}
            assert wave(detail, name)["maxInFlight"] == cap
            assert in_flight_peaks(writes, settled, site, GOOD) == (cap, site_cap), name


def test_a_canary_with_budget_zero_writes_one_cluster_when_it_fails(tmp_path: Path) -> None:
    with running_stack(tmp_path, env=FAST_RETRIES) as stack:
        register(
            stack,
            waves=[
                {"name": "canary", "selector": {"ring": "canary"}, "maxConcurrency": 1},
                {"name": "broad"},
            ],
        )
        detail = wait(stack, start(stack, "bad0" + GOOD[4:]))
        assert detail["state"] == "RolledBack", detail["message"]
        assert [(w["cluster"], w["method"]) for w in stack.writes()] == [
            ("canary-1", "PUT"),
            ("canary-1", "DELETE"),
        ]
        untouched = next(c for c in wave(detail, "canary")["clusters"] if c["name"] == "canary-2")
        assert (untouched["state"], untouched["reason"]) == ("Pending", "FailureBudgetExceeded")


def kustomization_paths(stack: Stack) -> set[str]:
    """The path of the `infra` kustomization on every cluster, as ARM returns it."""
    client = stack.flux_client()
    paths = set()
    for cluster in stack.emulator.control.clusters():
        got = client.flux_configurations.get(
            "rg-fleet", "Microsoft.Kubernetes", "connectedClusters", cluster["name"], "baseline"
        )
        paths.add(got.as_dict()["properties"]["kustomizations"]["infra"]["path"])
    return paths


def test_a_track_edited_mid_rollout_changes_only_the_next_one(tmp_path: Path) -> None:
    slow = {"slow": [{"clusters": "canary-*", "factor": 20}]}
    key = {"x-functions-key": ""}
    with running_stack(tmp_path, env=FAST_RETRIES, faults=slow) as stack:
        key["x-functions-key"] = stack.host.function_key
        register(stack)
        code, headers, _ = stack.host.raw("GET", "/api/tracks/baseline", headers=key)
        assert code == 200
        first_etag = headers["ETag"]
        rollout_id = start(stack, GOOD)
        wait(stack, rollout_id, writing("canary"))
        edited = track_spec(
            configuration={
                "name": "baseline",
                "kustomizations": {"infra": {"path": "./infra-v2", "prune": True}},
            }
        )
        code, body = api(stack, "PUT", "tracks/baseline", edited, **{"If-Match": first_etag})
        assert code == 200, body
        assert "applies from the next rollout" in body["notice"]
        code, headers, _ = stack.host.raw("GET", "/api/tracks/baseline", headers=key)
        assert headers["ETag"] != first_etag
        code, body = api(stack, "PUT", "tracks/baseline", edited, **{"If-Match": first_etag})
        assert code == 412 and "changed since you read it" in body["error"]
        assert api(stack, "DELETE", "tracks/baseline", **{"If-Match": first_etag})[0] == 412
        assert wait(stack, rollout_id)["state"] == "Succeeded"
        assert kustomization_paths(stack) == {"./infra"}  # every write used the snapshot
        second = start(stack, GOOD2)
        assert wait(stack, second)["state"] == "Succeeded"
        assert kustomization_paths(stack) == {"./infra-v2"}
        assert rollout(stack, rollout_id)["specVersion"] != rollout(stack, second)["specVersion"]


def test_a_configuration_found_before_arcwave_is_put_back_field_by_field(tmp_path: Path) -> None:
    with running_stack(tmp_path, env=FAST_RETRIES) as stack:
        client = stack.flux_client()
        args = ("rg-fleet", "Microsoft.Kubernetes", "connectedClusters", "canary-1", "baseline")
        client.flux_configurations.begin_create_or_update(*args, HAND_MADE_CONFIGURATION).result()
        before = client.flux_configurations.get(*args).as_dict()["properties"]
        register(stack)
        detail = wait(stack, start(stack, "bad0" + GOOD[4:]))
        assert detail["state"] == "RolledBack", detail["message"]
        after = client.flux_configurations.get(*args).as_dict()["properties"]
        for field in ("scope", "namespace", "sourceKind", "suspend", "gitRepository"):
            assert after[field] == before[field], field
        assert after["kustomizations"] == before["kustomizations"]
        gone = ("rg-fleet", "Microsoft.Kubernetes", "connectedClusters", "canary-2", "baseline")
        with pytest.raises(ResourceNotFoundError):
            client.flux_configurations.get(*gone)
        entries = [e for e in timeline(stack, detail["id"]) if e["reason"] == "RolledBack"]
        assert any("given the configuration found before arcwave" in e["message"] for e in entries)
        _, fleet = api(stack, "GET", "fleet?track=baseline")
        found = {c["name"]: c["restorePoint"] for c in fleet["clusters"]}
        assert found["canary-1"]["found"] is True and found["canary-2"]["found"] is False


def test_63_character_names_fit_the_instance_id_limit(tmp_path: Path) -> None:
    track = "t" * 63
    waves = [
        {"name": "c" * 63, "selector": {"ring": "canary"}},
        {"name": "e" * 63, "selector": {"ring": "early"}},
        {"name": "b" * 63},
    ]
    with running_stack(tmp_path, env=FAST_RETRIES) as stack:
        spec = track_spec(
            name=track,
            waves=waves,
            configuration={"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
        )
        code, body = api(stack, "PUT", f"tracks/{track}", spec)
        assert code == 201, body
        good = start(stack, GOOD, track)
        assert wait(stack, good)["state"] == "Succeeded"
        bad = start(stack, "bad0" + GOOD[4:], track)
        assert wait(stack, bad)["state"] == "RolledBack"
        ids = instance_ids(stack.host)
        assert len(ids) >= 1 + 2 + 3 + 1 + 1  # track, rollouts, waves, rollback
        assert max(len(i) for i in ids) <= MAX_INSTANCE_ID
        code, body = stack.host.request(
            "POST",
            f"/runtime/webhooks/durabletask/orchestrators/track_orchestrator/{'x' * 101}"
            f"?code={stack.host.function_key}",
        )
        assert code == 400 and "100" in json.dumps(body)


def instance_ids(host: DevHost) -> list[str]:
    code, body = host.request(
        "GET", f"/runtime/webhooks/durabletask/instances/?code={host.function_key}"
    )
    assert code == 200, body
    return [i["instanceId"] for i in body]


def terminate(stack: Stack, instance: str) -> None:
    code, body = stack.host.request(
        "POST",
        f"/runtime/webhooks/durabletask/instances/{instance}/terminate"
        f"?reason=by+hand&code={stack.host.function_key}",
    )
    assert code == 202, body
    stack.host.wait_for(instance, ("Terminated",))


def stranded(stack: Stack) -> tuple[str, dict[str, Any]]:
    """A rollout recorded as Running whose orchestration was terminated, with its track's
    orchestrator gone too (so nothing in the app noticed yet)."""
    register(
        stack,
        waves=[{"name": "canary", "selector": {"ring": "canary"}, "soak": "10m"}, {"name": "rest"}],
    )
    first = start(stack, GOOD)
    assert wait(
        stack,
        first,
        lambda d: d["state"] == "Running" and wave(d, "canary").get("state") == "Soaking",
    )
    terminate(stack, "track:baseline")
    terminate(stack, first)
    return first, rollout(stack, first)


def test_a_command_to_a_rollout_whose_orchestration_ended_is_refused(tmp_path: Path) -> None:
    with running_stack(tmp_path, env=FAST_RETRIES) as stack:
        rollout_id, before = stranded(stack)
        assert before["state"] == "Running"
        code, body = api(stack, "POST", f"rollouts/{rollout_id}/abort")
        assert code == 409, body
        assert body["orchestration"] == "Terminated" and "no longer running" in body["error"]
        detail = wait(stack, rollout_id)
        assert (detail["state"], detail["reason"]) == ("Failed", "OrchestrationLost")
        assert "Terminated" in detail["message"]
        assert set(last_commits(stack).values()) == {None}  # arcwave created them: removed
        code, track = api(stack, "GET", "tracks/baseline")
        assert track["activeRolloutId"] is None


def test_the_reconciliation_closes_a_rollout_nothing_else_would(tmp_path: Path) -> None:
    with running_stack(tmp_path, env=FAST_RETRIES) as stack:
        rollout_id, _ = stranded(stack)
        time.sleep(1)
        assert rollout(stack, rollout_id)["state"] == "Running"  # nobody knows yet
        code, _ = stack.host.request(
            "POST", f"/admin/functions/reconcile_rollouts?code={stack.host.function_key}", {}
        )
        assert code == 202
        detail = wait(stack, rollout_id)
        assert detail["state"] == "Failed" and detail["reason"] == "OrchestrationLost"
        assert "found Terminated by the reconciliation" in detail["message"]
        register(stack)  # no soak: the next rollout runs through
        second = start(stack, GOOD2)
        assert wait(stack, second)["state"] == "Succeeded"
