"""Who may do what, through the local stack with devhost acting as App Service authentication
(docs/security.md): every operator route as each role, as a caller with no role, as a function
key; forged principal headers never reach the timeline; an approval names its Approver."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rollout_support import GOOD, GOOD2, Stack, running_stack, track_spec

from shared.identity import Role
from shared.states import RolloutState

pytestmark = pytest.mark.e2e

ROLES = [role.value for role in Role]
OPERATIONS: list[tuple[str, str, str, Any, Role]] = [
    ("list tracks", "GET", "tracks", None, Role.READER),
    ("get a track", "GET", "tracks/nothing", None, Role.READER),
    ("preview a plan", "POST", "tracks/nothing/plan", None, Role.READER),
    ("list rollouts", "GET", "rollouts", None, Role.READER),
    ("get a rollout", "GET", "rollouts/nothing", None, Role.READER),
    ("read a timeline", "GET", "rollouts/nothing/timeline", None, Role.READER),
    ("read the fleet", "GET", "fleet?track=nothing", None, Role.READER),
    ("write a track", "PUT", "tracks/nothing", {"name": "other"}, Role.ADMIN),
    ("delete a track", "DELETE", "tracks/nothing", None, Role.ADMIN),
    ("start a rollout", "POST", "tracks/nothing/rollouts", {"revision": GOOD}, Role.OPERATOR),
    ("pause", "POST", "rollouts/nothing/pause", None, Role.OPERATOR),
    ("resume", "POST", "rollouts/nothing/resume", None, Role.OPERATOR),
    ("abort", "POST", "rollouts/nothing/abort", None, Role.OPERATOR),
    ("roll back", "POST", "rollouts/nothing/rollback", None, Role.OPERATOR),
    ("approve", "POST", "rollouts/nothing/approve", None, Role.APPROVER),
    (
        "override windows",
        "POST",
        "rollouts/nothing/override-windows",
        {"reason": "an emergency"},
        Role.ADMIN,
    ),
]
"""Each operator route on things that do not exist: a caller allowed through is answered by
the route itself (404, or 400 for a body that names another track), never 403."""
CALLERS = [*ROLES, "no role", "key", "key that may approve"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("roles"), easy_auth=True) as running:
        running.register()
        yield running


@pytest.fixture(scope="module")
def approving_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"ARCWAVE_KEYS_MAY_APPROVE": "true"}
    with running_stack(tmp_path_factory.mktemp("keys"), easy_auth=True, env=env) as running:
        yield running


def headers(stack: Stack, caller: str) -> dict[str, str]:
    keyed = {"x-functions-key": stack.host.function_key}
    if caller.startswith("key"):
        return keyed
    roles = [] if caller == "no role" else [caller]
    return {**keyed, "Authorization": f"Bearer {stack.host.token(f'{caller}@contoso.com', roles)}"}


def allowed(caller: str, role: Role) -> bool:
    if caller == "key":
        return role is not Role.APPROVER
    if caller == "key that may approve":
        return True
    return caller == role.value or (role is Role.READER and caller != "no role")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("what", "method", "path", "body", "role"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_each_route_takes_its_role_and_refuses_the_rest(
    stack: Stack,
    approving_keys: Stack,
    caller: str,
    what: str,
    method: str,
    path: str,
    body: Any,
    role: Role,
) -> None:
    host = approving_keys if caller == "key that may approve" else stack
    code, answer = host.host.request(method, f"/api/{path}", body, headers=headers(host, caller))
    if allowed(caller, role):
        assert code in (200, 400, 404), (code, answer)
    else:
        assert code == 403, (code, answer)
        assert f"needs the role {role.value}" in answer["error"]


def gated(stack: Stack) -> None:
    waves = [{"name": "canary", "selector": {"ring": "canary"}}, {"name": "rest", "approval": True}]
    code, body = stack.host.request(
        "PUT",
        "/api/tracks/baseline",
        track_spec(waves=waves),
        headers=headers(stack, "arcwave.Admin"),
    )
    assert code in (200, 201), body


def test_an_approval_records_the_approver_and_forged_names_never_reach_the_timeline(
    stack: Stack,
) -> None:
    gated(stack)
    forged = {
        "X-MS-CLIENT-PRINCIPAL-NAME": "security-admin@contoso.com",
        "X-MS-CLIENT-PRINCIPAL": base64.b64encode(
            json.dumps({"claims": [{"typ": "roles", "val": "arcwave.Approver"}]}).encode()
        ).decode(),
    }
    code, handed = stack.host.request(
        "POST",
        "/api/tracks/baseline/rollouts",
        {"revision": GOOD2},
        headers={**headers(stack, "arcwave.Operator"), **forged},
    )
    assert code == 202, handed
    rollout_id = handed["rolloutId"]
    stack.wait_state(rollout_id, RolloutState.WAITING_FOR_APPROVAL)

    for caller in ("key", "arcwave.Operator"):
        code, body = stack.host.request(
            "POST",
            f"/api/rollouts/{rollout_id}/approve",
            headers={**headers(stack, caller), **forged},
        )
        assert code == 403, body
    code, body = stack.host.request(
        "POST", f"/api/rollouts/{rollout_id}/approve", headers=headers(stack, "arcwave.Approver")
    )
    assert code == 202, body
    stack.wait_state(rollout_id, RolloutState.SUCCEEDED)

    code, detail = stack.host.request(
        "GET", f"/api/rollouts/{rollout_id}", headers=headers(stack, "arcwave.Reader")
    )
    assert detail["trigger"]["actor"] == "arcwave.Operator@contoso.com"
    code, timeline = stack.host.request(
        "GET", f"/api/rollouts/{rollout_id}/timeline", headers=headers(stack, "arcwave.Reader")
    )
    entries = timeline["timeline"]
    approvals = [e for e in entries if e["reason"] == "Approved"]
    assert [e["actor"] for e in approvals if e["actor"] != "arcwave"] == [
        "arcwave.Approver@contoso.com"
    ]
    assert "wave 'rest' approved by arcwave.Approver@contoso.com" in [
        e["message"] for e in approvals
    ]
    assert all("security-admin" not in f"{e['actor']} {e['message']}" for e in entries)


def test_without_app_service_authentication_principal_headers_are_ignored(
    tmp_path: Path,
) -> None:
    with running_stack(tmp_path) as plain:
        plain.register()
        forged = {
            "x-functions-key": plain.host.function_key,
            "X-MS-CLIENT-PRINCIPAL-NAME": "security-admin@contoso.com",
        }
        code, handed = plain.host.request(
            "POST", "/api/tracks/baseline/rollouts", {"revision": GOOD}, headers=forged
        )
        assert code == 202, handed
        rollout = plain.wait_state(handed["rolloutId"], RolloutState.SUCCEEDED)
        assert rollout.trigger.actor == "function-key"
