"""The adapters activities work through, built once per worker process from the settings.

Settings are read when the first activity runs, not at import, so indexing the app never
needs them; a bad setting fails that activity with `SettingsError` naming the setting.
"""

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from azure.core.credentials import TokenCredential

from activities.contracts import Control, NonRetryableError
from shared.adapters.arm import credential_for
from shared.adapters.fleet import FleetGateway
from shared.adapters.publisher import EventPublisher, publisher_for
from shared.errors import PermanentError
from shared.secrets import KeyVaultSecrets, NoVault, Secrets
from shared.settings import CredentialKind, Settings
from shared.store import Records, RolloutRecord, open_store
from shared.store.records import utc_now

log = logging.getLogger("arcwave.activities")


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
def runtime() -> Runtime:
    """The process's runtime, from the environment (app settings)."""
    settings = Settings.from_env(os.environ)
    log.info(
        "arcwave activities: ARM at %s, store %s, publishing %s",
        settings.arm_endpoint,
        settings.store.kind,
        "on" if settings.publishing else "off",
    )
    return build_runtime(settings)


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
    )
