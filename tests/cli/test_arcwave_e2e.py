"""`arcwave` against a live local stack (the emulator as Azure, the function app under
devhost): each command's `-o json` checked against the shapes of the app's OpenAPI document
(docs/api.md says the same), and every exit code met as an operator meets it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.states import RolloutState
from tests.cli.arcwave_support import Arcwave, Ran
from tests.e2e.rollout_support import (
    BAD,
    GOOD,
    GOOD2,
    Stack,
    running_stack,
    slow_canaries,
    track_spec,
)
from tests.support import secret
from triggers.openapi import schemas

pytestmark = pytest.mark.e2e


def required(schema: dict[str, Any]) -> list[str]:
    """The fields the app's OpenAPI document (`triggers.openapi.schemas`) says an answer has,
    in the order the app writes them."""
    return list(schema["required"])


TRACK_FIELDS = required(schemas.TRACK)
SUMMARY_FIELDS = required(schemas.SUMMARY)
ROLLOUT_FIELDS = required(schemas.ROLLOUT)
WAVE_FIELDS = required(schemas.ROLLOUT["properties"]["waves"]["items"])
CLUSTER_FIELDS = required(schemas.ROLLOUT_CLUSTER)
HANDED_FIELDS = required(schemas.HANDED)
COMMANDED_FIELDS = set(required(schemas.COMMANDED))
FLEET_FIELDS = required(schemas.FLEET["properties"]["clusters"]["items"])
PLAN_FIELDS = required(schemas.PLAN)
WATCH = ("--interval", "0.3")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path / "stack") as running:
        yield running


def keyed(arcwave: Arcwave, stack: Stack) -> Arcwave:
    """`arcwave` pointed at the stack with its function key, through the environment."""
    arcwave.env.update(ARCWAVE_URL=stack.host.base_url, ARCWAVE_KEY=stack.host.function_key)
    return arcwave


def spec_file(tmp_path: Path, file_name: str = "track.yaml", **overrides: Any) -> Path:
    file = tmp_path / file_name
    file.write_text(yaml.safe_dump(track_spec(**overrides), sort_keys=False))
    return file


def ok(ran: Ran, code: int = 0) -> Ran:
    assert ran.code == code, ran
    assert "Traceback" not in ran.stderr
    return ran


def test_tracks_apply_get_list_diff_and_delete(
    arcwave: Arcwave, stack: Stack, tmp_path: Path
) -> None:
    keyed(arcwave, stack)
    file = spec_file(tmp_path)
    created = ok(arcwave("tracks", "apply", "-f", str(file)))
    assert "track baseline created" in created.stdout
    replaced = ok(arcwave("tracks", "apply", "-f", str(file), "-o", "json")).json()
    assert list(replaced) == TRACK_FIELDS
    assert replaced["spec"]["configuration"]["namespace"] == "default"  # defaults filled in

    track = ok(arcwave("tracks", "get", "baseline", "-o", "json")).json()
    assert list(track) == TRACK_FIELDS and track["name"] == "baseline"
    assert yaml.safe_load(arcwave("tracks", "get", "baseline", "-o", "yaml").stdout) == track
    listing = ok(arcwave("tracks", "list", "-o", "json")).json()
    assert list(listing) == ["tracks"] and [t["name"] for t in listing["tracks"]] == ["baseline"]
    assert list(listing["tracks"][0]) == TRACK_FIELDS

    same = ok(arcwave("tracks", "diff", "-f", str(file), "--exit-code", "-o", "json")).json()
    assert same == {
        "track": "baseline",
        "exists": True,
        "differs": False,
        "changes": [],
        "recreates": [],
    }

    # The configuration exists on clusters once a rollout wrote it: from then on its
    # create-only fields cannot change without a re-create.
    done = ok(
        arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD, "-w", *WATCH, "-o", "json")
    )
    assert done.json()["state"] == "Succeeded"

    changed = spec_file(
        tmp_path,
        "changed.yaml",
        configuration={
            "name": "baseline",
            "namespace": "apps",
            "kustomizations": {"infra": {"path": "./infra"}},
        },
        progressDeadline="90s",
    )
    diff = ok(arcwave("tracks", "diff", "-f", str(changed), "-o", "json")).json()
    assert diff["differs"] is True and diff["recreates"] == ["configuration.namespace"]
    by_path = {c["path"]: c for c in diff["changes"]}
    assert by_path["configuration.namespace"] == {
        "path": "configuration.namespace",
        "change": "changed",
        "before": "default",
        "after": "apps",
        "createOnly": True,
    }
    assert by_path["progressDeadline"]["createOnly"] is False
    table = ok(arcwave("tracks", "diff", "-f", str(changed)))
    assert "create-only" in table.stdout
    ok(arcwave("tracks", "diff", "-f", str(changed), "--exit-code"), 1)

    refused = ok(arcwave("tracks", "apply", "-f", str(changed)), 3)
    assert "configuration.namespace can only be set when" in refused.stderr
    assert "arcwave tracks apply --recreate" in refused.stderr
    recreated = ok(arcwave("tracks", "apply", "-f", str(changed), "--recreate", "-o", "json"))
    assert recreated.json()["spec"]["configuration"]["namespace"] == "apps"
    ok(arcwave("tracks", "diff", "-f", str(changed), "--exit-code"))

    deleted = ok(arcwave("tracks", "delete", "baseline", "--yes", "-o", "json")).json()
    assert deleted == {"deleted": "baseline"}
    gone = ok(arcwave("tracks", "get", "baseline"), 1)
    assert "no track 'baseline' (HTTP 404)" in gone.stderr


def test_invalid_files_exit_2_naming_the_field(
    arcwave: Arcwave, stack: Stack, tmp_path: Path
) -> None:
    keyed(arcwave, stack)
    invalid = spec_file(tmp_path, progressDeadline="soon")
    ran = ok(arcwave("tracks", "apply", "-f", str(invalid)), 2)
    assert "invalid track spec (HTTP 400)" in ran.stderr
    assert "progressDeadline:" in ran.stderr
    other = spec_file(tmp_path, "other.yaml", name="Not A Name")
    ran = ok(arcwave("tracks", "apply", "-f", str(other)), 2)
    assert "name:" in ran.stderr
    ok(arcwave("tracks", "diff", "-f", str(invalid)), 2)
    ok(arcwave("rollouts", "list", "--state", "Sideways"), 2)
    assert ok(arcwave("tracks", "list", "-o", "json")).json() == {"tracks": []}


def test_reads_answer_the_documented_shapes(arcwave: Arcwave, stack: Stack, tmp_path: Path) -> None:
    keyed(arcwave, stack)
    ok(arcwave("tracks", "apply", "-f", str(spec_file(tmp_path))))
    plan = ok(arcwave("plan", "--track", "baseline", "--revision", GOOD, "-o", "json")).json()
    assert list(plan) == PLAN_FIELDS and plan["revision"] == GOOD
    assert [len(w["clusters"]) for w in plan["waves"]] == [2, 4, 6]
    assert "Plan for track baseline: 12 of 12 clusters in 3 waves" in (
        ok(arcwave("plan", "--track", "baseline")).stdout
    )

    handed = ok(arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD, "-o", "json")).json()
    assert list(handed) == HANDED_FIELDS and handed["queued"] is False
    rollout_id = handed["rolloutId"]
    watched = ok(arcwave("rollouts", "watch", rollout_id, *WATCH))
    assert f"rollout {rollout_id} ended Succeeded" in watched.stdout
    assert "RolloutSucceeded" in watched.stdout

    detail = ok(arcwave("rollouts", "get", rollout_id, "-o", "json")).json()
    assert list(detail) == ROLLOUT_FIELDS and detail["state"] == "Succeeded"
    assert list(detail["waves"][0]) == WAVE_FIELDS
    assert list(detail["waves"][0]["clusters"][0]) == CLUSTER_FIELDS
    assert detail["trigger"]["kind"] == "api"
    assert "Succeeded" in ok(arcwave("rollouts", "get", rollout_id)).stdout

    listing = ok(arcwave("rollouts", "list", "--track", "baseline", "-o", "json")).json()
    assert list(listing) == ["rollouts"] and list(listing["rollouts"][0]) == SUMMARY_FIELDS
    assert [r["id"] for r in listing["rollouts"]] == [rollout_id]
    running = ok(arcwave("rollouts", "list", "--state", "Running", "-o", "json")).json()
    assert running == {"rollouts": []}

    timeline = ok(arcwave("timeline", rollout_id, "-o", "json")).json()
    assert list(timeline) == ["rolloutId", "timeline"] and timeline["rolloutId"] == rollout_id
    assert list(timeline["timeline"][0]) == ["time", "actor", "reason", "message", "data"]
    assert timeline["timeline"][0]["reason"] == "RolloutStarted"
    assert "RolloutSucceeded" in ok(arcwave("timeline", rollout_id)).stdout

    fleet = ok(arcwave("fleet", "--track", "baseline", "-o", "json")).json()
    assert list(fleet) == ["track", "clusters"] and len(fleet["clusters"]) == 12
    assert list(fleet["clusters"][0]) == FLEET_FIELDS
    assert {c["lastGoodRevision"] for c in fleet["clusters"]} == {GOOD}
    as_yaml = ok(arcwave("fleet", "--track", "baseline", "-o", "yaml")).stdout
    assert yaml.safe_load(as_yaml) == fleet
    assert "canary-1" in ok(arcwave("fleet", "--track", "baseline")).stdout

    missing = ok(arcwave("rollouts", "get", "baseline-0000000-00000000"), 1)
    assert "(HTTP 404)" in missing.stderr


def test_a_bad_commit_is_watched_to_rolled_back_and_exits_5(
    arcwave: Arcwave, stack: Stack, tmp_path: Path
) -> None:
    keyed(arcwave, stack)
    ok(arcwave("tracks", "apply", "-f", str(spec_file(tmp_path))))
    ok(arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD, "-w", *WATCH))
    handed = ok(arcwave("rollouts", "start", "-t", "baseline", "-r", BAD, "-o", "json")).json()
    ended = ok(arcwave("rollouts", "watch", handed["rolloutId"], *WATCH, "-o", "json"), 5)
    final = ended.json()  # the final rollout only
    assert list(final) == ROLLOUT_FIELDS
    assert final["state"] == "RolledBack" and final["waves"][0]["state"] == "RolledBack"
    table = ok(arcwave("rollouts", "watch", handed["rolloutId"], *WATCH), 5)
    assert "ended RolledBack" in table.stdout and "HealthCheckFailed" in table.stdout


def test_abort_with_rollback_on_a_running_rollout(arcwave: Arcwave, tmp_path: Path) -> None:
    with running_stack(tmp_path / "stack", faults=slow_canaries()) as stack:
        keyed(arcwave, stack)
        ok(arcwave("tracks", "apply", "-f", str(spec_file(tmp_path))))
        handed = ok(arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD, "-o", "json"))
        rollout_id = handed.json()["rolloutId"]
        stack.wait_state(rollout_id, RolloutState.RUNNING)
        refused = ok(arcwave("tracks", "delete", "baseline", "--yes"), 3)
        assert f"has an active rollout '{rollout_id}'" in refused.stderr
        for command in ("pause", "resume"):
            answer = ok(arcwave("rollouts", command, rollout_id, "-o", "json")).json()
            assert set(answer) >= COMMANDED_FIELDS
            assert (answer["rolloutId"], answer["command"]) == (rollout_id, command)
            if command == "pause":
                stack.wait_state(rollout_id, RolloutState.PAUSED)
        aborted = ok(arcwave("rollouts", "abort", rollout_id, "--rollback", "-o", "json"))
        assert set(aborted.json()) >= COMMANDED_FIELDS
        assert aborted.json()["rolloutId"] == rollout_id
        assert aborted.json()["command"] == "abort"
        final = ok(arcwave("rollouts", "watch", rollout_id, *WATCH, "-o", "json"), 5).json()
        assert final["state"] in ("Aborted", "RolledBack")
        again = ok(arcwave("rollouts", "abort", rollout_id), 3)
        assert "(HTTP 409)" in again.stderr
        ok(arcwave("rollouts", "pause", rollout_id), 3)


def test_approving_a_gated_wave_with_a_key(arcwave: Arcwave, tmp_path: Path) -> None:
    gated = [
        {"name": "canary", "selector": {"ring": "canary"}},
        {"name": "rest", "approval": True},
    ]
    env = {"ARCWAVE_KEYS_MAY_APPROVE": "true"}
    with running_stack(tmp_path / "stack", env=env) as stack:
        keyed(arcwave, stack)
        ok(arcwave("tracks", "apply", "-f", str(spec_file(tmp_path, waves=gated))))
        handed = ok(arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD, "-o", "json"))
        rollout_id = handed.json()["rolloutId"]
        stack.wait_state(rollout_id, RolloutState.WAITING_FOR_APPROVAL)
        refused = ok(arcwave("rollouts", "resume", rollout_id), 3)
        assert "WaitingForApproval" in refused.stderr
        approved = ok(arcwave("rollouts", "approve", rollout_id, "-o", "json")).json()
        assert set(approved) >= COMMANDED_FIELDS and approved["command"] == "approve"
        ok(arcwave("rollouts", "watch", rollout_id, *WATCH))
        ok(arcwave("rollouts", "approve", rollout_id), 3)


def test_rollback_starts_a_rollout_of_the_revision_before(
    arcwave: Arcwave, stack: Stack, tmp_path: Path
) -> None:
    keyed(arcwave, stack)
    ok(arcwave("tracks", "apply", "-f", str(spec_file(tmp_path))))
    ok(arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD, "-w", *WATCH))
    second = ok(
        arcwave("rollouts", "start", "-t", "baseline", "-r", GOOD2, "-w", *WATCH, "-o", "json")
    )
    assert second.json()["revision"] == GOOD2
    undone = ok(arcwave("rollouts", "rollback", second.json()["id"], "-w", *WATCH, "-o", "json"))
    final = undone.json()  # the new rollout, followed to its end
    assert final["revision"] == GOOD and final["state"] == "Succeeded"
    assert final["id"] != second.json()["id"]
    fleet = ok(arcwave("fleet", "--track", "baseline", "-o", "json")).json()
    assert {c["desiredRevision"] for c in fleet["clusters"]} == {GOOD}
    again = ok(arcwave("rollouts", "rollback", final["id"], "--fast", "-o", "json"))
    assert again.json()["rolloutId"] and again.json()["revision"] == GOOD2


def test_a_wrong_or_missing_key_exits_4_and_shows_no_key(arcwave: Arcwave, stack: Stack) -> None:
    wrong = secret("cli e2e wrong key", "wrong-key-0123456789")
    arcwave.env.update(ARCWAVE_URL=stack.host.base_url, ARCWAVE_KEY=wrong)
    ran = ok(arcwave("tracks", "list"), 4)
    assert "HTTP 401" in ran.stderr
    assert wrong not in ran.stderr + ran.stdout
    assert stack.host.function_key not in ran.stderr + ran.stdout
    ok(arcwave("rollouts", "list", ARCWAVE_KEY=None), 4)


def test_contexts_carry_the_url_and_key(arcwave: Arcwave, stack: Stack) -> None:
    key = stack.host.function_key
    login = ok(arcwave("login", "--url", stack.host.base_url, "--key", key, "--context", "local"))
    assert key not in login.stdout + login.stderr
    ok(
        arcwave(
            "login", "--url", stack.host.base_url, "--key", "not-the-key-0123", "--context", "x"
        )
    )
    ok(arcwave("tracks", "list"), 4)  # x is current
    ok(arcwave("--context", "local", "tracks", "list"))
    ok(arcwave("context", "use", "local"))
    assert ok(arcwave("tracks", "list", "-o", "json")).json() == {"tracks": []}


def test_a_key_and_a_token_go_together_and_roles_decide(arcwave: Arcwave, tmp_path: Path) -> None:
    """On Azure the Functions host wants the key and App Service authentication the token;
    devhost does both. The token's roles decide what the caller may do."""
    gated = [
        {"name": "canary", "selector": {"ring": "canary"}},
        {"name": "rest", "approval": True},
    ]
    with running_stack(tmp_path / "stack", easy_auth=True) as stack:
        url, key = stack.host.base_url, stack.host.function_key
        reader = secret(
            "cli e2e reader token", stack.host.token("rita@contoso.com", ["arcwave.Reader"])
        )
        operator = secret(
            "cli e2e operator token",
            stack.host.token(
                "otto@contoso.com", ["arcwave.Admin", "arcwave.Operator", "arcwave.Approver"]
            ),
        )
        ok(arcwave("login", "--url", url, "--key", key, "--token", reader, "--context", "rita"))
        ok(arcwave("login", "--url", url, "--key", key, "--token", operator, "--context", "otto"))
        ok(arcwave("login", "--url", url, "--token", operator, "--context", "no-key"))
        file = spec_file(tmp_path, waves=gated)
        ok(arcwave("--context", "otto", "tracks", "apply", "-f", str(file)))
        assert ok(arcwave("--context", "rita", "tracks", "list", "-o", "json")).json()["tracks"]
        refused = ok(
            arcwave("--context", "rita", "rollouts", "start", "-t", "baseline", "-r", GOOD), 4
        )
        assert "arcwave.Operator" in refused.stderr and "(HTTP 403)" in refused.stderr
        handed = ok(
            arcwave(
                "--context", "otto", "rollouts", "start", "-t", "baseline", "-r", GOOD, "-o", "json"
            )
        ).json()
        stack.wait_state(handed["rolloutId"], RolloutState.WAITING_FOR_APPROVAL)
        denied = ok(arcwave("--context", "rita", "rollouts", "approve", handed["rolloutId"]), 4)
        assert "arcwave.Approver" in denied.stderr
        ok(arcwave("--context", "otto", "rollouts", "approve", handed["rolloutId"]))
        final = ok(
            arcwave(
                "--context", "rita", "rollouts", "watch", handed["rolloutId"], *WATCH, "-o", "json"
            )
        )
        assert final.json()["trigger"]["actor"] == "otto@contoso.com"
        ok(arcwave("--context", "no-key", "tracks", "list"), 4)  # a token is no key
        for ran_token in (reader, operator):
            listing = arcwave("context", "list", "-o", "json")
            assert ran_token not in listing.stdout
