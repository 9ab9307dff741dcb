"""arcwave's settings: one object read from the environment (app settings in Azure,
`local.settings.json` under devhost).

They are read once, when the app first needs them (`shared.runtime.runtime`); missing, malformed
or contradictory settings raise `SettingsError`, whose message names the setting and the fix.
Secrets are `SecretStr`: they never show in reprs, logs or errors.

The names are a contract with infra/ and docs/settings.md lists each of them.
"""

import math
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shared.identity import IdentitySettings, parse_key_names

PROVIDERS = ("github", "gitlab", "azuredevops", "bitbucket", "gitea")
MIN_POLL_SECONDS = 0.2
LOG_ANALYTICS = "https://api.loganalytics.io/v1"
"""Log Analytics' query API in Azure's public cloud."""
Choice = TypeVar("Choice", bound=StrEnum)


class SettingsError(ValueError):
    """A setting is missing, malformed or contradicts another; the message names it."""


class CredentialKind(StrEnum):
    DEFAULT = "default"
    EMULATOR = "emulator"


class LogLevel(StrEnum):
    """A Python logging level, as `ARCWAVE_SDK_LOG_LEVEL` names it."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class TelemetrySettings(BaseModel):
    """Where arcwave's traces, metrics and logs go (`shared.telemetry`, docs/telemetry.md)."""

    model_config = ConfigDict(frozen=True)

    exporter: Literal["none", "azure-monitor", "console", "otlp", "file"] = "none"
    """`azure-monitor` whenever `APPLICATIONINSIGHTS_CONNECTION_STRING` is set (unless
    `ARCWAVE_OTEL_EXPORTER=none`); else what `ARCWAVE_OTEL_EXPORTER` says."""
    file_path: Path | None = None
    """`file`: the JSON-lines file spans and metrics are appended to."""


class StoreSettings(BaseModel):
    """Where arcwave keeps its state."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["sqlite", "cosmos"]
    sqlite_path: Path | None = None
    cosmos_endpoint: str | None = None
    cosmos_database: str | None = None
    cosmos_key: SecretStr | None = None
    cosmos_ca_bundle: Path | None = None


class RetrySettings(BaseModel):
    """How long a rollout step that fails keeps being tried before the rollout gives up.

    Attempts back off exponentially from `first_seconds`, doubling up to `max_interval_seconds`
    between attempts, for at most `horizon_seconds` since the first attempt: outages shorter
    than the horizon are ridden out; a step still failing after it ends its rollout `Failed`.
    """

    model_config = ConfigDict(frozen=True)

    first_seconds: float = Field(default=5.0, gt=0)
    max_interval_seconds: float = Field(default=120.0, gt=0)
    horizon_seconds: float = Field(default=1800.0, gt=0)


class Settings(BaseModel):
    """Everything arcwave reads from its environment."""

    model_config = ConfigDict(frozen=True)

    arm_endpoint: str = "https://management.azure.com"
    arm_ca_bundle: Path | None = None
    credential: CredentialKind = CredentialKind.DEFAULT
    arm_writes_per_second: float = Field(default=10.0, gt=0)
    arm_write_burst: int = Field(default=200, ge=1)
    """ARM's own burst: the bucket starts full and follows ARM's answers (`shared.ratelimit`)."""
    store: StoreSettings
    eventgrid_endpoint: str | None = None
    eventgrid_key: SecretStr | None = None
    webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    flux_hmac_key: SecretStr | None = None
    keyvault_url: str | None = None
    """The vault whose secrets tracks reference in `source.auth`."""
    log_analytics_endpoint: str = LOG_ANALYTICS
    """Log Analytics' query API, for metric gates with `logAnalytics` queries."""
    poll_seconds: float = Field(default=10.0, gt=0)
    """How often a wave looks at its clusters when no Flux event wakes it earlier."""
    retry: RetrySettings = Field(default_factory=RetrySettings)
    sdk_log_level: LogLevel = LogLevel.WARNING
    """From which level the Azure SDK's own log lines (every HTTP call at INFO) get through."""
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    """Who a caller of the operator API is (`shared.identity`)."""
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    """Where traces, metrics and logs go (`shared.telemetry`)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Read and check every setting; raise `SettingsError` naming the first bad one."""
        read = _Reader(env)
        settings = cls(
            arm_endpoint=read.url("ARCWAVE_ARM_ENDPOINT", "https://management.azure.com"),
            arm_ca_bundle=read.existing_file("ARCWAVE_ARM_CA_BUNDLE"),
            credential=read.choice("ARCWAVE_CREDENTIAL", CredentialKind, CredentialKind.DEFAULT),
            arm_writes_per_second=read.number("ARCWAVE_ARM_WRITES_PER_SECOND", 10.0),
            arm_write_burst=int(read.number("ARCWAVE_ARM_WRITE_BURST", 200, whole=True)),
            store=_store(read),
            eventgrid_endpoint=read.url("ARCWAVE_EVENTGRID_ENDPOINT", None),
            eventgrid_key=read.secret("ARCWAVE_EVENTGRID_KEY"),
            webhook_secrets=_webhook_secrets(read),
            flux_hmac_key=read.secret("ARCWAVE_FLUX_HMAC_KEY"),
            keyvault_url=read.url("ARCWAVE_KEYVAULT_URL", None),
            log_analytics_endpoint=read.url("ARCWAVE_LOG_ANALYTICS_ENDPOINT", LOG_ANALYTICS)
            or LOG_ANALYTICS,
            poll_seconds=read.number("ARCWAVE_POLL_SECONDS", 10.0, at_least=MIN_POLL_SECONDS),
            retry=_retry(read),
            sdk_log_level=read.choice("ARCWAVE_SDK_LOG_LEVEL", LogLevel, LogLevel.WARNING),
            identity=_identity(read),
            telemetry=_telemetry(read),
        )
        if settings.eventgrid_key and not settings.eventgrid_endpoint:
            raise SettingsError(
                "ARCWAVE_EVENTGRID_KEY is set but ARCWAVE_EVENTGRID_ENDPOINT is not: "
                "set the topic endpoint too, or remove the key"
            )
        return settings

    def webhook_secret(self, provider: str) -> SecretStr | None:
        """The secret for one Git provider: its own setting, else the shared one."""
        return self.webhook_secrets.get(provider) or self.webhook_secrets.get("*")

    @property
    def publishing(self) -> bool:
        return self.eventgrid_endpoint is not None


def _store(read: "_Reader") -> StoreSettings:
    value = read.text("ARCWAVE_STORE")
    if value is None:
        raise SettingsError(
            "ARCWAVE_STORE is not set: use sqlite:///ABSOLUTE/PATH.db for the embedded store "
            "or 'cosmos' with ARCWAVE_COSMOS_ENDPOINT and ARCWAVE_COSMOS_DATABASE"
        )
    if value.startswith("sqlite:"):
        rest = value.removeprefix("sqlite:")
        if not rest.startswith("///") or rest.strip("/") == "":
            raise SettingsError(
                f"ARCWAVE_STORE={value!r}: give an absolute path, as sqlite:///ABSOLUTE/PATH.db"
            )
        path = Path("/" + rest.lstrip("/"))
        if not path.parent.is_dir():
            raise SettingsError(
                f"ARCWAVE_STORE: folder {path.parent} does not exist; create it or pick another"
            )
        return StoreSettings(kind="sqlite", sqlite_path=path)
    if value == "cosmos":
        endpoint = read.url("ARCWAVE_COSMOS_ENDPOINT", None)
        database = read.text("ARCWAVE_COSMOS_DATABASE")
        for name, given in (
            ("ARCWAVE_COSMOS_ENDPOINT", endpoint),
            ("ARCWAVE_COSMOS_DATABASE", database),
        ):
            if not given:
                raise SettingsError(f"ARCWAVE_STORE=cosmos needs {name}")
        return StoreSettings(
            kind="cosmos",
            cosmos_endpoint=endpoint,
            cosmos_database=database,
            cosmos_key=read.secret("ARCWAVE_COSMOS_KEY"),
            cosmos_ca_bundle=read.existing_file("ARCWAVE_COSMOS_CA_BUNDLE"),
        )
    raise SettingsError(
        f"ARCWAVE_STORE={value!r} is not a store: use sqlite:///ABSOLUTE/PATH.db or 'cosmos'"
    )


def _telemetry(read: "_Reader") -> TelemetrySettings:
    """`ARCWAVE_OTEL_EXPORTER`: `none`, `console`, `otlp` or `file:/ABSOLUTE/PATH.jsonl`; an
    Application Insights connection string means Azure Monitor unless it says `none`."""
    value = read.text("ARCWAVE_OTEL_EXPORTER")
    kind = (value or "").lower()
    if kind == "none":
        return TelemetrySettings()
    if read.text("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        return TelemetrySettings(exporter="azure-monitor")
    if value is None:
        return TelemetrySettings()
    if kind == "console":
        return TelemetrySettings(exporter="console")
    if kind == "otlp":
        if not (
            read.text("OTEL_EXPORTER_OTLP_ENDPOINT")
            or read.text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        ):
            raise SettingsError(
                "ARCWAVE_OTEL_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT: the collector's "
                "OTLP/HTTP base URL, e.g. http://127.0.0.1:4318"
            )
        return TelemetrySettings(exporter="otlp")
    if kind.startswith("file:"):
        path = Path(value[len("file:") :])
        if not path.is_absolute() or not path.parent.is_dir():
            raise SettingsError(
                f"ARCWAVE_OTEL_EXPORTER={value!r}: give file:/ABSOLUTE/PATH.jsonl in a folder "
                "that exists"
            )
        return TelemetrySettings(exporter="file", file_path=path)
    raise SettingsError(
        f"ARCWAVE_OTEL_EXPORTER={value!r}: use none, console, otlp or file:/ABSOLUTE/PATH.jsonl"
    )


def _identity(read: "_Reader") -> IdentitySettings:
    try:
        names = parse_key_names(read.text("ARCWAVE_KEY_NAMES") or "")
    except ValueError as error:
        raise SettingsError(f"ARCWAVE_KEY_NAMES: {error}") from None
    return IdentitySettings(
        # Injected by App Service, read-only: true only when App Service authentication is on.
        app_service_auth=read.flag("WEBSITE_AUTH_ENABLED"),
        key_names=names,
        keys_may_approve=read.flag("ARCWAVE_KEYS_MAY_APPROVE"),
    )


def _retry(read: "_Reader") -> RetrySettings:
    retry = RetrySettings(
        first_seconds=read.number("ARCWAVE_RETRY_FIRST_SECONDS", 5.0),
        max_interval_seconds=read.number("ARCWAVE_RETRY_MAX_INTERVAL_SECONDS", 120.0),
        horizon_seconds=read.number("ARCWAVE_RETRY_HORIZON_SECONDS", 1800.0),
    )
    if retry.max_interval_seconds < retry.first_seconds:
        raise SettingsError(
            "ARCWAVE_RETRY_MAX_INTERVAL_SECONDS is shorter than ARCWAVE_RETRY_FIRST_SECONDS: "
            "the longest wait between attempts must be at least the first"
        )
    return retry


def _webhook_secrets(read: "_Reader") -> dict[str, SecretStr]:
    secrets: dict[str, SecretStr] = {}
    shared = read.secret("ARCWAVE_WEBHOOK_SECRET")
    if shared:
        secrets["*"] = shared
    for provider in PROVIDERS:
        own = read.secret(f"ARCWAVE_WEBHOOK_SECRET_{provider.upper()}")
        if own:
            secrets[provider] = own
    return secrets


class _Reader:
    """Typed reads of environment values; blank counts as unset."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def secret(self, name: str) -> SecretStr | None:
        value = self.text(name)
        if value and value.startswith("@Microsoft.KeyVault("):
            # App Service leaves the reference text in place when it cannot resolve it.
            raise SettingsError(
                f"{name} holds an unresolved Key Vault reference: give the app's identity the "
                "Key Vault Secrets User role on the vault and check the secret's name"
            )
        return SecretStr(value) if value else None

    def flag(self, name: str) -> bool:
        """`true` or `false` in any case (also `1`/`0`); unset is false."""
        value = (self.text(name) or "false").lower()
        if value not in ("true", "false", "1", "0"):
            raise SettingsError(f"{name}={value!r}: use true or false")
        return value in ("true", "1")

    def url(self, name: str, default: str | None) -> str | None:
        value = self.text(name) or default
        if value is not None and not value.startswith(("https://", "http://")):
            raise SettingsError(f"{name}={value!r} is not a URL: give it as https://host[/path]")
        return value.rstrip("/") if value else None

    def existing_file(self, name: str) -> Path | None:
        value = self.text(name)
        if value is None:
            return None
        path = Path(value)
        if not path.is_file():
            raise SettingsError(f"{name}: no file at {value}")
        return path

    def choice(self, name: str, kind: type[Choice], default: Choice) -> Choice:
        """One of `kind`'s values, in any case."""
        value = self.text(name)
        if value is None:
            return default
        for member in kind:
            if member.value.lower() == value.lower():
                return member
        *others, last = [repr(k.value) for k in kind]
        allowed = f"{', '.join(others)} or {last}" if others else last
        raise SettingsError(f"{name}={value!r}: use {allowed}")

    def number(
        self, name: str, default: float, *, whole: bool = False, at_least: float | None = None
    ) -> float:
        value = self.text(name)
        if value is None:
            return default
        kind = "a whole number" if whole else "a number"
        try:
            number = int(value) if whole else float(value)
        except ValueError:
            raise SettingsError(f"{name}={value!r} is not {kind}") from None
        if not math.isfinite(number):
            raise SettingsError(f"{name}={value!r} is not {kind}")
        if at_least is not None and number < at_least:
            raise SettingsError(f"{name}={value!r} must be at least {at_least:g}")
        if number <= 0:
            raise SettingsError(f"{name}={value!r} must be more than zero")
        return number
