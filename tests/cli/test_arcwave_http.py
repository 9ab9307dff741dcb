"""`arcwave` against a fake app: the headers it sends for each kind of credential, the exit code
and message of each error answer, the output formats, and `watch` ending on each final state."""

import json
import socket
from typing import Any

import pytest
import yaml
from azure.identity import (
    AzureCliCredential,
    ChainedTokenCredential,
    DeviceCodeCredential,
    ManagedIdentityCredential,
)

from cli.auth import Credentials, entra_credential
from cli.client import Api
from cli.config import Entra, Target
from cli.errors import exit_code_for
from tests.cli.arcwave_support import Arcwave, FakeApp
from tests.support import secret

KEY = secret("cli http test key", "http-key-0123456789")
TOKEN = secret("cli http test token", "http-token-0123456789")
ENTRA_TOKEN = secret("cli http test entra token", "entra-token-0123456789")
SCOPE = "api://00000000-0000-0000-0000-00000000abcd/.default"
ID = "baseline-2b7e0c1-5f3a9c1e"
GOOD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"


def use(fake_app: FakeApp, arcwave: Arcwave, **env: str) -> None:
    arcwave.env.update({"ARCWAVE_URL": fake_app.url, "ARCWAVE_KEY": KEY, **env})


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 2),
        (413, 2),
        (409, 3),
        (412, 3),
        (401, 4),
        (403, 4),
        (404, 1),
        (405, 1),
        (500, 1),
        (502, 1),
        (503, 1),
    ],
)
def test_each_error_status_has_its_exit_code(status: int, code: int) -> None:
    assert exit_code_for(status) == code


@pytest.mark.parametrize(
    ("status", "body", "code", "lines"),
    [
        (
            400,
            {
                "error": "invalid rollout request",
                "errors": [{"loc": "revision", "type": "revision", "msg": "not a commit"}],
            },
            2,
            ["error: invalid rollout request (HTTP 400)", "  revision: not a commit"],
        ),
        (
            413,
            {"error": "the body is larger than 8 KiB", "limit": 8192},
            2,
            ["the body is larger than 8 KiB (HTTP 413)"],
        ),
        (
            409,
            {"error": "cannot approve: rollout 'x' is Running", "state": "Running"},
            3,
            ["cannot approve: rollout 'x' is Running (HTTP 409)"],
        ),
        (
            403,
            {"error": "approving needs the role arcwave.Approver; ada has arcwave.Reader"},
            4,
            ["approving needs the role arcwave.Approver; ada has arcwave.Reader (HTTP 403)"],
        ),
        (401, None, 4, ["not authorised (HTTP 401)", "ARCWAVE_URL (key)"]),
        (404, {"error": f"no rollout '{ID}'"}, 1, [f"no rollout '{ID}' (HTTP 404)"]),
        (503, {"error": "the store is busy"}, 1, ["the store is busy (HTTP 503)"]),
        (500, None, 1, ["answered HTTP 500"]),
        (302, None, 1, ["redirected to https://login.example.com/authorize (HTTP 302)"]),
    ],
)
def test_error_answers_print_the_apps_message_and_exit_with_its_code(
    arcwave: Arcwave,
    fake_app: FakeApp,
    status: int,
    body: Any,
    code: int,
    lines: list[str],
) -> None:
    headers = {"Location": "https://login.example.com/authorize?x=1"} if status == 302 else {}
    fake_app.answer("POST", f"/api/rollouts/{ID}/approve", status, body, headers)
    use(fake_app, arcwave)
    ran = arcwave("rollouts", "approve", ID)
    assert ran.code == code, ran
    for line in lines:
        assert line in ran.stderr
    assert ran.stdout == ""
    assert "Traceback" not in ran.stderr
    assert KEY not in ran.stderr


def test_an_app_that_is_not_there_exits_1(arcwave: Arcwave) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran = arcwave("tracks", "list", ARCWAVE_URL=f"http://127.0.0.1:{port}", ARCWAVE_KEY=KEY)
    assert ran.code == 1
    assert f"cannot reach http://127.0.0.1:{port}" in ran.stderr
    assert KEY not in ran.stderr


def test_a_key_goes_as_x_functions_key_and_a_token_as_bearer(
    arcwave: Arcwave, fake_app: FakeApp
) -> None:
    fake_app.answer("GET", "/api/tracks", 200, {"tracks": []})
    assert arcwave("tracks", "list", ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=KEY).code == 0
    assert fake_app.sent[-1].headers["x-functions-key"] == KEY
    assert "Authorization" not in fake_app.sent[-1].headers
    assert arcwave("tracks", "list", ARCWAVE_URL=fake_app.url, ARCWAVE_TOKEN=TOKEN).code == 0
    assert fake_app.sent[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "x-functions-key" not in fake_app.sent[-1].headers
    # Both, as on Azure: the key for the Functions host, the token for App Service auth.
    arcwave("login", "--url", fake_app.url, "--key", KEY, "--token", TOKEN)
    assert arcwave("tracks", "list").code == 0
    sent = fake_app.sent[-1].headers
    assert (sent["x-functions-key"], sent["Authorization"]) == (KEY, f"Bearer {TOKEN}")
    assert sent["User-Agent"].startswith("arcwave-cli/")


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(ENTRA_TOKEN, 4_102_444_800)  # 2100


def test_an_entra_context_sends_its_token_with_the_key(
    arcwave: Arcwave, fake_app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = FakeCredential()
    monkeypatch.setattr("cli.auth.entra_credential", lambda entra: credential)
    fake_app.answer("GET", "/api/tracks", 200, {"tracks": []})
    ran = arcwave("login", "--url", fake_app.url, "--key", KEY, "--entra", "--scope", SCOPE)
    assert ran.code == 0, ran
    assert arcwave("tracks", "list").code == 0
    sent = fake_app.sent[-1].headers
    assert (sent["x-functions-key"], sent["Authorization"]) == (KEY, f"Bearer {ENTRA_TOKEN}")
    assert credential.scopes == [(SCOPE,)]


def test_an_entra_token_is_asked_for_once_and_reused() -> None:
    credential = FakeCredential()
    target = Target("https://example.com", entra=Entra(scope=SCOPE))
    credentials = Credentials(target, credential)
    assert credentials.headers() == {"Authorization": f"Bearer {ENTRA_TOKEN}"}
    assert credentials.headers() == {"Authorization": f"Bearer {ENTRA_TOKEN}"}
    assert len(credential.scopes) == 1


def test_an_entra_sign_in_that_fails_exits_4(
    arcwave: Arcwave, fake_app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import CredentialUnavailableError

    class Unavailable:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise CredentialUnavailableError("Please run 'az login' to set up an account")

    monkeypatch.setattr("cli.auth.entra_credential", lambda entra: Unavailable())
    arcwave("login", "--url", fake_app.url, "--entra", "--scope", SCOPE)
    ran = arcwave("tracks", "list")
    assert ran.code == 4, ran
    assert f"cannot get an Entra ID token for {SCOPE}" in ran.stderr
    assert "az login" in ran.stderr
    assert fake_app.sent == []


def test_the_entra_credential_follows_the_context_and_the_pipeline() -> None:
    assert isinstance(entra_credential(Entra(scope=SCOPE), {}), AzureCliCredential)
    device = entra_credential(Entra(scope=SCOPE, device_code=True), {})
    assert isinstance(device, DeviceCodeCredential)
    for env in ({"ARCWAVE_MANAGED_IDENTITY": "1"}, {"AZURE_CLIENT_ID": "0000-1111"}):
        chained = entra_credential(Entra(scope=SCOPE), env)
        assert isinstance(chained, ChainedTokenCredential)
        kinds = [type(c) for c in chained.credentials]
        assert kinds == [ManagedIdentityCredential, AzureCliCredential]


def test_tls_is_verified_unless_a_ca_bundle_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    target = Target("https://example.com", key=KEY)
    assert Api(target).session.verify is True
    monkeypatch.setenv("ARCWAVE_CA_BUNDLE", "/etc/ssl/private-ca.pem")
    assert Api(target).session.verify == "/etc/ssl/private-ca.pem"
    monkeypatch.setenv("ARCWAVE_TIMEOUT", "90")
    assert Api(target).timeout == (10.0, 90.0)


TRACKS = {
    "tracks": [
        {
            "name": "baseline",
            "spec": {
                "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
                "configuration": {"name": "baseline"},
            },
            "currentRevision": GOOD,
            "lastGoodRevision": GOOD,
            "activeRolloutId": None,
            "specVersion": "v1",
            "updatedAt": "2026-11-26T12:00:00.000000Z",
        }
    ]
}


def test_json_and_yaml_are_the_apps_answer_as_it_came(arcwave: Arcwave, fake_app: FakeApp) -> None:
    fake_app.answer("GET", "/api/tracks", 200, TRACKS)
    use(fake_app, arcwave)
    as_json = arcwave("tracks", "list", "-o", "json")
    assert as_json.code == 0, as_json
    assert as_json.json() == TRACKS
    assert as_json.stdout == json.dumps(TRACKS, indent=2) + "\n"
    as_yaml = arcwave("tracks", "list", "--output", "yaml")
    assert yaml.safe_load(as_yaml.stdout) == TRACKS
    table = arcwave("tracks", "list")
    assert "baseline" in table.stdout and "2b7e0c1" in table.stdout
    assert "fleet-config @ main" in table.stdout
    assert arcwave("tracks", "list", "-o", "xml").code == 2


def rollout(state: str, reason: str = "") -> dict[str, Any]:
    return {
        "id": ID,
        "track": "baseline",
        "revision": GOOD,
        "previousRevision": None,
        "state": state,
        "reason": reason or state,
        "message": "",
        "trigger": {"kind": "api", "actor": "function-key"},
        "specVersion": "v1",
        "clusters": None,
        "createdAt": "2026-11-26T12:00:00.000000Z",
        "updatedAt": "2026-11-26T12:00:05.000000Z",
        "waves": [
            {
                "name": "canary",
                "maxInFlight": 2,
                "maxPerSite": None,
                "state": "Succeeded" if state == "Succeeded" else "Running",
                "reason": None,
                "message": "",
                "clusters": [],
            }
        ],
    }


@pytest.mark.parametrize(
    ("final", "code"),
    [
        ("Succeeded", 0),
        ("RolledBack", 5),
        ("Failed", 5),
        ("Aborted", 5),
        ("Superseded", 5),
    ],
)
def test_watch_exits_0_on_success_and_5_on_any_other_final_state(
    arcwave: Arcwave, fake_app: FakeApp, final: str, code: int
) -> None:
    fake_app.answer_in_turn(
        "GET", f"/api/rollouts/{ID}", [(200, rollout("Running")), (200, rollout(final))]
    )
    fake_app.answer("GET", f"/api/rollouts/{ID}/timeline", 200, {"rolloutId": ID, "timeline": []})
    use(fake_app, arcwave)
    ran = arcwave("rollouts", "watch", ID, "--interval", "0.1", "-o", "json")
    assert ran.code == code, ran
    assert ran.json() == rollout(final)  # the final rollout only, nothing else on stdout
    fake_app.answer_in_turn("GET", f"/api/rollouts/{ID}", [(200, rollout(final))])
    table = arcwave("rollouts", "watch", ID, "--interval", "0.1")
    assert table.code == code, table
    assert f"rollout {ID} ended {final}" in table.stdout


def test_watch_rides_out_a_hiccup_but_not_a_missing_rollout(
    arcwave: Arcwave, fake_app: FakeApp
) -> None:
    fake_app.answer_in_turn(
        "GET",
        f"/api/rollouts/{ID}",
        [(503, {"error": "the store is busy"}), (200, rollout("Succeeded"))],
    )
    use(fake_app, arcwave)
    ran = arcwave("rollouts", "watch", ID, "--interval", "0.1", "-o", "json")
    assert ran.code == 0, ran
    assert "the store is busy" in ran.stderr and "trying again" in ran.stderr
    fake_app.answer_in_turn("GET", f"/api/rollouts/{ID}", [(404, {"error": "no rollout"})])
    assert arcwave("rollouts", "watch", ID, "-o", "json").code == 1


def test_commands_send_their_bodies(arcwave: Arcwave, fake_app: FakeApp) -> None:
    commanded = {"rolloutId": ID, "command": "abort", "state": "Running"}
    fake_app.answer("POST", f"/api/rollouts/{ID}/abort", 202, commanded)
    fake_app.answer("POST", f"/api/rollouts/{ID}/pause", 202, {**commanded, "command": "pause"})
    handed = {"track": "baseline", "revision": GOOD, "rolloutId": ID, "queued": False}
    fake_app.answer("POST", "/api/tracks/baseline/rollouts", 202, handed)
    rolled = {**handed, "rolloutId": "baseline-2b7e0c1-00000000", "undoes": ID, "fast": True}
    fake_app.answer("POST", f"/api/rollouts/{ID}/rollback", 202, rolled)
    use(fake_app, arcwave)
    ran = arcwave("rollouts", "abort", ID, "--rollback", "-o", "json")
    assert (ran.code, ran.json()) == (0, commanded)
    assert json.loads(fake_app.sent[-1].body) == {"rollback": True}
    assert arcwave("rollouts", "abort", ID).code == 0
    assert json.loads(fake_app.sent[-1].body) == {"rollback": False}
    ran = arcwave("rollouts", "pause", ID)
    assert ran.code == 0 and f"pause sent to rollout {ID}" in ran.stdout
    assert fake_app.sent[-1].body == b""
    ran = arcwave(
        "rollouts", "start", "-t", "baseline", "-r", GOOD, "--reason", "hotfix", "-o", "yaml"
    )
    assert (ran.code, yaml.safe_load(ran.stdout)) == (0, handed)
    assert json.loads(fake_app.sent[-1].body) == {"revision": GOOD, "reason": "hotfix"}
    ran = arcwave("rollouts", "rollback", ID, "--fast", "-o", "json")
    assert (ran.code, ran.json()) == (0, rolled)
    assert json.loads(fake_app.sent[-1].body) == {"fast": True}
    ran = arcwave("rollouts", "rollback", ID)
    assert "rollback of baseline-2b7e0c1-5f3a9c1e started: rollout baseline-2b7e0c1-00000000" in (
        ran.stdout
    )
    assert json.loads(fake_app.sent[-1].body) == {"fast": False}


def test_names_and_ids_stay_inside_their_path_segment(arcwave: Arcwave, fake_app: FakeApp) -> None:
    use(fake_app, arcwave)
    ran = arcwave("rollouts", "get", "../tracks?x=1")
    assert ran.code == 1
    assert fake_app.sent[-1].path == "/api/rollouts/..%2Ftracks%3Fx%3D1"


def test_deleting_needs_yes_when_not_interactive(arcwave: Arcwave, fake_app: FakeApp) -> None:
    fake_app.answer("DELETE", "/api/tracks/baseline", 200, {"deleted": "baseline"})
    use(fake_app, arcwave)
    ran = arcwave("tracks", "delete", "baseline")
    assert ran.code == 2 and "--yes" in ran.stderr
    assert fake_app.sent == []
    ran = arcwave("tracks", "delete", "baseline", "--yes", "-o", "json")
    assert (ran.code, ran.json()) == (0, {"deleted": "baseline"})


def test_every_command_shows_an_example_in_its_help(arcwave: Arcwave) -> None:
    commands = [
        ["validate"],
        ["plan"],
        ["demo"],
        ["login"],
        ["timeline"],
        ["fleet"],
        *(["context", c] for c in ("list", "use", "delete")),
        *(["tracks", c] for c in ("apply", "get", "list", "delete", "diff")),
        *(
            ["rollouts", c]
            for c in (
                "list",
                "get",
                "watch",
                "start",
                "approve",
                "pause",
                "resume",
                "abort",
                "rollback",
            )
        ),
    ]
    for command in commands:
        ran = arcwave(*command, "--help")
        assert ran.code == 0, (command, ran)
        assert "Example" in ran.stdout, command
        assert f"arcwave {' '.join(command)}" in " ".join(ran.stdout.split()), command
    top = arcwave("--help")
    text = " ".join(top.stdout.split())
    for line in ("0 ok", "2 invalid input", "3 refused by the app", "4 not authorised"):
        assert line in text
    assert "5 the rollout ended unsuccessfully" in text
    assert "--install-completion" in text and "--show-completion" in text


def test_completion_scripts_are_offered(arcwave: Arcwave, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    for shell in ("bash", "zsh", "fish"):
        ran = arcwave("--show-completion", shell)
        assert ran.code == 0, ran
        assert "_ARCWAVE_COMPLETE" in ran.stdout, shell
