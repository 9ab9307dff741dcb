"""The adapters activities (and triggers) work through, built once per worker process from
the settings.

The settings are read and checked once per process, when the app starts
(`check_settings_at_start`, called by function_app.py): a bad one stops the app with
`SettingsError` naming the setting. An import of the app with no `ARCWAVE_` setting at all (a
tool or a test indexing it) checks nothing; the first use then fails the same way.
"""

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from azure.core.credentials import TokenCredential

from shared.adapters.arm import credential_for
from shared.adapters.fleet import FleetGateway
from shared.adapters.monitor import MetricSource, MonitorGateway, NoMonitor
from shared.adapters.publisher import EventPublisher, publisher_for
from shared.contracts.activities import Control, NonRetryableError
from shared.errors import PermanentError
from shared.logs import fields, set_sdk_log_level
from shared.secrets import KeyVaultSecrets, NoVault, Secrets
from shared.settings import CredentialKind, LogLevel, Settings, SettingsError
from shared.store import Records, RolloutRecord, open_store
from shared.telemetry import activity
from shared.telemetry.setup import configure as configure_telemetry
from shared.times import utc_now

log = logging.getLogger("arcwave.activities")

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class Runtime:
    """Everything an activity touches the world with."""

    settings: Settings
    records: Records
    fleet: FleetGateway
    publisher: EventPublisher
    secrets: Secrets = field(default_factory=NoVault)
    """Where the secrets of tracks' `source.auth` are read, at write time only."""
    now: Callable[[], datetime] = field(default=utc_now)
    """Where activities take the time from (tests pass a virtual clock)."""
    monitor: MetricSource = field(default_factory=NoMonitor)
    """Where metric gates' queries run (Log Analytics, managed Prometheus)."""


def build_runtime(settings: Settings) -> Runtime:
    # Only the local Cosmos stand-in (signed in with a key) needs its containers made here.
    ca = settings.store.cosmos_ca_bundle
    store = open_store(
        settings,
        create_containers=settings.store.cosmos_key is not None,
        ca_bundle=str(ca) if ca else None,
    )
    credential = credential_for(settings)
    return Runtime(
        settings=settings,
        records=Records(store),
        fleet=FleetGateway(settings, credential=credential),
        publisher=publisher_for(settings),
        secrets=secrets_for(settings, credential),
        monitor=MonitorGateway(settings, credential),
    )


def secrets_for(settings: Settings, credential: TokenCredential) -> Secrets:
    """Key Vault when `ARCWAVE_KEYVAULT_URL` is set (the emulator's stand-in locally)."""
    if settings.keyvault_url is None:
        return NoVault()
    emulated = settings.credential is CredentialKind.EMULATOR
    return KeyVaultSecrets(
        settings.keyvault_url,
        credential,
        # Key Vault's challenge names vault.azure.net, which a loopback stand-in is not.
        verify_challenge_resource=not emulated,
        connection_verify=str(settings.arm_ca_bundle) if settings.arm_ca_bundle else True,
    )


@functools.cache
def app_settings() -> Settings:
    """The app's settings, read from the environment and checked once per process."""
    return Settings.from_env(os.environ)


def check_settings_at_start() -> None:
    """Read and check the settings now, so that a bad one stops the app as it starts, its
    error naming the setting and the fix; then set the Azure SDK's log level
    (`ARCWAVE_SDK_LOG_LEVEL`) and turn telemetry on (`shared.telemetry.setup`, docs/telemetry.md).
    Nothing to check when no `ARCWAVE_` setting is there at all:
    the app is being indexed by a tool, not started to run, and the SDK gets the default."""
    if not any(name.startswith("ARCWAVE_") for name in os.environ):
        set_sdk_log_level(LogLevel.WARNING)
        return
    try:
        settings = app_settings()
    except SettingsError as error:
        log.critical("arcwave cannot start: %s", error)
        raise
    set_sdk_log_level(settings.sdk_log_level)
    configure_telemetry(settings.telemetry)


@functools.cache
def runtime() -> Runtime:
    """The process's runtime, from the environment (app settings)."""
    settings = app_settings()
    log.info(
        "arcwave runtime: %s",
        fields(
            arm=settings.arm_endpoint,
            store=settings.store.kind,
            publishing="on" if settings.publishing else "off",
            sdk_log_level=settings.sdk_log_level.value,
        ),
    )
    return build_runtime(settings)


def act(work: Callable[[Runtime, In], Out], request: In, name: str | None = None) -> Out:
    """Run an activity's `work` on this process's runtime, in a span named `name` (the
    activity's; `work`'s own name by default), failing fast on permanent errors: what every
    activity trigger does."""
    with activity(name or work.__name__, request), failing_fast():
        return work(runtime(), request)


@contextlib.contextmanager
def failing_fast() -> Iterator[None]:
    """Let transient errors fail the attempt (the orchestrator retries it over its horizon);
    turn permanent ones into `NonRetryableError`, so the step fails at once with the reason."""
    try:
        yield
    except PermanentError as error:
        raise NonRetryableError(str(error)) from error


def control_of(rollout: RolloutRecord) -> Control:
    """The rollout's control block as the orchestrators see it."""
    control = rollout.control
    return Control(
        paused=control.paused,
        abort=control.abort,
        rollback=control.rollback,
        superseded=control.superseded,
        approvals=dict(control.approvals),
        pausedBy=control.paused_by,
        fail=control.fail,
    )
