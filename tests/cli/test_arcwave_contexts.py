"""Contexts: `arcwave login` and `arcwave context`, the file they keep (mode 0600), the
environment's overrides, and keys and tokens never shown."""

import stat
from pathlib import Path

import pytest
import yaml

from cli.config import Context, Entra, Target, load, resolve
from tests.cli.arcwave_support import Arcwave, FakeApp
from tests.support import secret

KEY = secret("cli test function key", "key-0123456789-abcdef")
TOKEN = secret("cli test bearer token", "token-0123456789-abcdef")
OTHER_KEY = secret("cli test other key", "other-key-0123456789")
SCOPE = "api://00000000-0000-0000-0000-00000000abcd/.default"
URL = "https://func-arcwave.azurewebsites.net"


def contexts_file(arcwave: Arcwave) -> Path:
    return arcwave.config_dir / "contexts.yaml"


def test_login_saves_a_private_file_and_never_prints_the_key(arcwave: Arcwave) -> None:
    ran = arcwave("login", "--url", URL + "/api/", "--key", KEY)
    assert ran.code == 0, ran
    assert KEY not in ran.stdout + ran.stderr
    assert "context default saved" in ran.stdout and "auth key" in ran.stdout
    file = contexts_file(arcwave)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    data = yaml.safe_load(file.read_text())
    assert data == {"current": "default", "contexts": {"default": {"url": URL, "key": KEY}}}
    # Logging in again rewrites it, still private.
    ran = arcwave("login", "--url", URL, "--token", TOKEN, "--context", "prod")
    assert ran.code == 0, ran
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert TOKEN not in ran.stdout + ran.stderr


def test_context_list_shows_no_secret_in_any_format(arcwave: Arcwave) -> None:
    assert arcwave("login", "--url", URL, "--key", KEY, "--context", "lab").code == 0
    ran = arcwave(
        "login", "--url", URL, "--key", KEY, "--entra", "--scope", SCOPE, "--context", "prod"
    )
    assert ran.code == 0, ran
    assert "auth key + entra" in ran.stdout
    assert arcwave("login", "--url", URL, "--token", TOKEN, "--context", "ci").code == 0
    listing = arcwave("context", "list", "-o", "json")
    assert listing.code == 0, listing
    assert listing.json() == {
        "current": "ci",
        "contexts": [
            {
                "name": "ci",
                "url": URL,
                "auth": ["token"],
                "scope": None,
                "deviceCode": False,
                "tenant": None,
                "current": True,
            },
            {
                "name": "lab",
                "url": URL,
                "auth": ["key"],
                "scope": None,
                "deviceCode": False,
                "tenant": None,
                "current": False,
            },
            {
                "name": "prod",
                "url": URL,
                "auth": ["key", "entra"],
                "scope": SCOPE,
                "deviceCode": False,
                "tenant": None,
                "current": False,
            },
        ],
    }
    as_yaml = arcwave("context", "list", "-o", "yaml")
    assert yaml.safe_load(as_yaml.stdout) == listing.json()
    table = arcwave("context", "list")
    assert "prod" in table.stdout and "key + entra" in table.stdout
    for ran in (listing, as_yaml, table):
        assert KEY not in ran.stdout + ran.stderr
        assert TOKEN not in ran.stdout + ran.stderr


def test_use_and_delete_switch_the_current_context(arcwave: Arcwave) -> None:
    arcwave("login", "--url", URL, "--key", KEY, "--context", "a")
    arcwave("login", "--url", "http://127.0.0.1:7071", "--key", KEY, "--context", "b")
    assert load(contexts_file(arcwave)).current == "b"
    ran = arcwave("context", "use", "a")
    assert ran.code == 0 and "current context: a" in ran.stdout
    assert load(contexts_file(arcwave)).current == "a"
    assert arcwave("context", "delete", "a").code == 0
    contexts = load(contexts_file(arcwave))
    assert contexts.current is None and list(contexts.contexts) == ["b"]
    missing = arcwave("context", "use", "a")
    assert missing.code == 2 and "no context 'a'" in missing.stderr
    assert arcwave("context", "delete", "nope").code == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "give --key KEY, --token TOKEN or --entra"),
        (["--token", TOKEN, "--entra", "--scope", SCOPE], "--token and --entra"),
        (["--entra"], "--entra needs --scope"),
        (["--key", KEY, "--scope", SCOPE], "go with --entra"),
        (["--key", KEY, "--device-code"], "go with --entra"),
    ],
)
def test_login_refuses_what_it_cannot_use(arcwave: Arcwave, args: list[str], fragment: str) -> None:
    ran = arcwave("login", "--url", URL, *args)
    assert ran.code == 2, ran
    assert fragment in ran.stderr
    assert KEY not in ran.stderr and TOKEN not in ran.stderr
    assert not contexts_file(arcwave).exists()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com",
        "example.com",
        f"https://example.com/?code={KEY}",
        f"https://user:{KEY}@example.com",
    ],
)
def test_login_refuses_an_address_that_is_not_one_and_never_echoes_a_key(
    arcwave: Arcwave, url: str
) -> None:
    ran = arcwave("login", "--url", url, "--key", "some-other-key-value")
    assert ran.code == 2, ran
    assert "--url" in ran.stderr
    assert KEY not in ran.stderr


def test_a_key_or_token_can_come_from_stdin(arcwave: Arcwave) -> None:
    ran = arcwave("login", "--url", URL, "--key", "-", input=KEY + "\n")
    assert ran.code == 0, ran
    assert load(contexts_file(arcwave)).contexts["default"].key == KEY
    assert arcwave("login", "--url", URL, "--token", "-", input="\n").code == 2


def test_the_environment_overrides_the_context_field_by_field(tmp_path: Path) -> None:
    file = tmp_path / "contexts.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "current": "prod",
                "contexts": {
                    "prod": {"url": URL, "key": KEY, "entra": {"scope": SCOPE}},
                    "lab": {"url": "http://127.0.0.1:7071/", "token": TOKEN},
                },
            }
        )
    )
    prod = resolve(None, {}, file)
    assert (prod.url, prod.key, prod.token, prod.context) == (URL, KEY, None, "prod")
    assert prod.entra == Entra(scope=SCOPE)
    assert resolve("lab", {}, file).url == "http://127.0.0.1:7071"
    assert resolve(None, {"ARCWAVE_CONTEXT": "lab"}, file).token == TOKEN
    env = {"ARCWAVE_URL": "https://other.example.com", "ARCWAVE_KEY": OTHER_KEY}
    overridden = resolve(None, env, file)
    assert (overridden.url, overridden.key, overridden.entra) == (
        "https://other.example.com",
        OTHER_KEY,
        Entra(scope=SCOPE),
    )
    # A token from the environment replaces the context's Entra sign-in.
    with_token = resolve(None, {"ARCWAVE_TOKEN": TOKEN}, file)
    assert (with_token.token, with_token.entra, with_token.key) == (TOKEN, None, KEY)
    # No file at all: the environment alone is enough.
    alone = resolve(None, {"ARCWAVE_URL": URL, "ARCWAVE_TOKEN": TOKEN}, tmp_path / "none.yaml")
    assert (alone.url, alone.token, alone.key, alone.context) == (URL, TOKEN, None, None)


def test_reprs_hide_keys_and_tokens() -> None:
    for value in (
        Context("prod", URL, key=KEY, token=TOKEN),
        Target(URL, key=KEY, token=TOKEN, context="prod"),
    ):
        assert KEY not in repr(value) and TOKEN not in repr(value)


def test_env_settings_reach_the_app_over_the_context(arcwave: Arcwave, fake_app: FakeApp) -> None:
    fake_app.answer("GET", "/api/tracks", 200, {"tracks": []})
    arcwave("login", "--url", "https://unreachable.invalid", "--key", KEY)
    ran = arcwave("tracks", "list", "-o", "json", ARCWAVE_URL=fake_app.url, ARCWAVE_KEY=OTHER_KEY)
    assert ran.code == 0, ran
    assert ran.json() == {"tracks": []}
    assert fake_app.sent[-1].headers["x-functions-key"] == OTHER_KEY


def test_the_global_context_option_selects_a_context(arcwave: Arcwave, fake_app: FakeApp) -> None:
    fake_app.answer("GET", "/api/tracks", 200, {"tracks": []})
    arcwave("login", "--url", fake_app.url, "--key", KEY, "--context", "lab")
    arcwave("login", "--url", "https://unreachable.invalid", "--key", OTHER_KEY)
    ran = arcwave("--context", "lab", "tracks", "list", "-o", "json")
    assert ran.code == 0, ran
    assert fake_app.sent[-1].headers["x-functions-key"] == KEY
    ran = arcwave("--context", "nope", "tracks", "list")
    assert ran.code == 2 and "no context 'nope'" in ran.stderr


def test_without_a_context_or_url_a_command_says_how_to_log_in(arcwave: Arcwave) -> None:
    ran = arcwave("tracks", "list")
    assert ran.code == 2
    assert "arcwave login --url URL" in ran.stderr and "ARCWAVE_URL" in ran.stderr


def test_a_broken_contexts_file_is_named_without_quoting_it(arcwave: Arcwave) -> None:
    file = contexts_file(arcwave)
    file.parent.mkdir(parents=True)
    file.write_text(f"current: a\ncontexts:\n  a: {{url: {URL}, key: {KEY}\n")
    file.chmod(0o600)
    ran = arcwave("tracks", "list")
    assert ran.code == 2, ran
    assert "is not valid YAML" in ran.stderr and str(file) in ran.stderr
    assert KEY not in ran.stderr


def test_a_contexts_file_others_may_read_is_warned_about(
    arcwave: Arcwave, fake_app: FakeApp
) -> None:
    fake_app.answer("GET", "/api/tracks", 200, {"tracks": []})
    arcwave("login", "--url", fake_app.url, "--key", KEY)
    contexts_file(arcwave).chmod(0o644)
    ran = arcwave("tracks", "list", "-o", "json")
    assert ran.code == 0 and "chmod 600" in ran.stderr
