import re
from pathlib import Path

import pytest

from shared.settings import CredentialKind, LogLevel, Settings, SettingsError


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"ARCWAVE_STORE": f"sqlite:///{tmp_path}/arcwave.db", **values}


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.credential is CredentialKind.DEFAULT
    assert settings.arm_ca_bundle is None
    assert (settings.arm_writes_per_second, settings.arm_write_burst) == (10.0, 200)
    assert settings.store.kind == "sqlite"
    assert settings.store.sqlite_path == tmp_path / "arcwave.db"
    assert not settings.publishing
    assert settings.webhook_secret("github") is None
    assert settings.sdk_log_level is LogLevel.WARNING


def test_emulator_settings(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("pem")
    settings = Settings.from_env(
        env(
            tmp_path,
            ARCWAVE_ARM_ENDPOINT="https://127.0.0.1:8443/",
            ARCWAVE_ARM_CA_BUNDLE=str(cert),
            ARCWAVE_CREDENTIAL="Emulator",
            ARCWAVE_ARM_WRITES_PER_SECOND="2.5",
            ARCWAVE_ARM_WRITE_BURST="20",
        )
    )
    assert settings.arm_endpoint == "https://127.0.0.1:8443"
    assert settings.arm_ca_bundle == cert
    assert settings.credential is CredentialKind.EMULATOR
    assert (settings.arm_writes_per_second, settings.arm_write_burst) == (2.5, 20)


def test_sqlite_urls_with_three_or_four_slashes_name_the_same_file(tmp_path: Path) -> None:
    three = Settings.from_env({"ARCWAVE_STORE": f"sqlite://{tmp_path}/a.db"})
    four = Settings.from_env({"ARCWAVE_STORE": f"sqlite:///{tmp_path}/a.db"})
    assert three.store.sqlite_path == four.store.sqlite_path == tmp_path / "a.db"


def test_cosmos_store(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ARCWAVE_STORE": "cosmos",
            "ARCWAVE_COSMOS_ENDPOINT": "https://acct.documents.azure.com:443/",
            "ARCWAVE_COSMOS_DATABASE": "arcwave",
        }
    )
    assert settings.store.kind == "cosmos"
    assert settings.store.cosmos_database == "arcwave"
    assert settings.store.cosmos_key is None


def test_provider_secret_overrides_the_shared_one(tmp_path: Path) -> None:
    settings = Settings.from_env(
        env(tmp_path, ARCWAVE_WEBHOOK_SECRET="shared", ARCWAVE_WEBHOOK_SECRET_GITLAB="own")
    )
    gitlab, github = settings.webhook_secret("gitlab"), settings.webhook_secret("github")
    assert gitlab is not None and gitlab.get_secret_value() == "own"
    assert github is not None and github.get_secret_value() == "shared"


def test_secrets_never_show_in_reprs(tmp_path: Path) -> None:
    settings = Settings.from_env(
        env(
            tmp_path,
            ARCWAVE_WEBHOOK_SECRET="hunter2",
            ARCWAVE_FLUX_HMAC_KEY="flux-key-1",
            ARCWAVE_EVENTGRID_ENDPOINT="http://127.0.0.1:7071/runtime/webhooks/eventgrid",
            ARCWAVE_EVENTGRID_KEY="eg-key-1",
        )
    )
    text = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in ("hunter2", "flux-key-1", "eg-key-1"):
        assert secret not in text


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"ARCWAVE_STORE": ""}, "ARCWAVE_STORE is not set"),
        ({"ARCWAVE_STORE": "sqlite://relative.db"}, "give an absolute path"),
        ({"ARCWAVE_STORE": "sqlite:///"}, "give an absolute path"),
        ({"ARCWAVE_STORE": "sqlite:////no/such/folder/x.db"}, "does not exist"),
        ({"ARCWAVE_STORE": "postgres://x"}, "is not a store"),
        ({"ARCWAVE_STORE": "cosmos"}, "ARCWAVE_STORE=cosmos needs ARCWAVE_COSMOS_ENDPOINT"),
        (
            {"ARCWAVE_STORE": "cosmos", "ARCWAVE_COSMOS_ENDPOINT": "https://a"},
            "needs ARCWAVE_COSMOS_DATABASE",
        ),
        ({"ARCWAVE_CREDENTIAL": "managed"}, "ARCWAVE_CREDENTIAL='managed': use 'default' or"),
        ({"ARCWAVE_ARM_ENDPOINT": "management.azure.com"}, "ARCWAVE_ARM_ENDPOINT"),
        ({"ARCWAVE_ARM_CA_BUNDLE": "/no/such/cert.pem"}, "ARCWAVE_ARM_CA_BUNDLE: no file"),
        ({"ARCWAVE_ARM_WRITES_PER_SECOND": "fast"}, "is not a number"),
        ({"ARCWAVE_ARM_WRITE_BURST": "0"}, "must be more than zero"),
        ({"ARCWAVE_ARM_WRITE_BURST": "2.5"}, "is not a whole number"),
        ({"ARCWAVE_EVENTGRID_KEY": "k"}, "ARCWAVE_EVENTGRID_ENDPOINT is not"),
        ({"ARCWAVE_POLL_SECONDS": "fast"}, "ARCWAVE_POLL_SECONDS='fast' is not a number"),
        ({"ARCWAVE_POLL_SECONDS": "0.1"}, "ARCWAVE_POLL_SECONDS='0.1' must be at least 0.2"),
        ({"ARCWAVE_POLL_SECONDS": "nan"}, "ARCWAVE_POLL_SECONDS='nan' is not a number"),
        ({"ARCWAVE_RETRY_HORIZON_SECONDS": "inf"}, "is not a number"),
        ({"ARCWAVE_RETRY_FIRST_SECONDS": "-1"}, "must be more than zero"),
        ({"ARCWAVE_KEYVAULT_URL": "kv.vault.azure.net"}, "ARCWAVE_KEYVAULT_URL"),
        (
            {"ARCWAVE_SDK_LOG_LEVEL": "loud"},
            "ARCWAVE_SDK_LOG_LEVEL='loud': use 'DEBUG', 'INFO', 'WARNING' or 'ERROR'",
        ),
        (
            {"ARCWAVE_WEBHOOK_SECRET": "@Microsoft.KeyVault(SecretUri=https://kv/secrets/x)"},
            "ARCWAVE_WEBHOOK_SECRET holds an unresolved Key Vault reference",
        ),
    ],
)
def test_bad_settings_fail_naming_the_setting(
    tmp_path: Path, values: dict[str, str], named: str | None
) -> None:
    merged = env(tmp_path, **values)
    with pytest.raises(SettingsError) as error:
        Settings.from_env(merged)
    assert (named or "ARCWAVE_STORE") in str(error.value)


def test_every_setting_the_app_reads_is_in_the_settings_doc_and_no_other() -> None:
    root = Path(__file__).resolve().parents[2]
    source = (root / "shared" / "settings.py").read_text()
    read = set(re.findall(r'"(ARCWAVE_[A-Z_]+)"', source))
    read |= {"ARCWAVE_WEBHOOK_SECRET_<PROVIDER>"} if "ARCWAVE_WEBHOOK_SECRET_{" in source else set()
    doc = (root / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"`(ARCWAVE_[A-Z_<>]+)`", doc))
    assert read == documented


def test_a_good_poll_interval_is_taken_as_given(tmp_path: Path) -> None:
    assert Settings.from_env(env(tmp_path, ARCWAVE_POLL_SECONDS="0.2")).poll_seconds == 0.2
    assert Settings.from_env(env(tmp_path)).poll_seconds == 10.0


def test_the_sdk_log_level_is_taken_in_any_case(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, ARCWAVE_SDK_LOG_LEVEL=" debug "))
    assert settings.sdk_log_level is LogLevel.DEBUG


def test_identity_settings_are_read_and_checked(tmp_path: Path) -> None:
    digest = "ab" * 32
    settings = Settings.from_env(
        env(
            tmp_path,
            WEBSITE_AUTH_ENABLED="True",
            ARCWAVE_KEY_NAMES=f"pipeline=sha256:{digest}",
            ARCWAVE_KEYS_MAY_APPROVE="TRUE",
        )
    )
    assert settings.identity.app_service_auth and settings.identity.keys_may_approve
    assert settings.identity.key_names == {"pipeline": digest}
    plain = Settings.from_env(env(tmp_path)).identity
    assert not plain.app_service_auth and not plain.keys_may_approve
    for name, value in (
        ("ARCWAVE_KEY_NAMES", "pipeline=hunter2-key"),
        ("ARCWAVE_KEYS_MAY_APPROVE", "yes"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env(env(tmp_path, **{name: value}))
