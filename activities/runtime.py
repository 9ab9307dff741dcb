"""The adapters activities work through, built once per worker process from the settings.

Settings are read when the first activity runs, not at import, so indexing the app never
needs them; a bad setting fails that activity with `SettingsError` naming the setting.
"""

import functools
import logging
import os
from dataclasses import dataclass

from activities.contracts import Control
from shared.adapters.fleet import FleetGateway
from shared.adapters.publisher import EventPublisher, publisher_for
from shared.settings import Settings
from shared.store import Records, RolloutRecord, open_store

log = logging.getLogger("arcwave.activities")


@dataclass
class Runtime:
    """Everything an activity touches the world with."""

    settings: Settings
    records: Records
    fleet: FleetGateway
    publisher: EventPublisher


def build_runtime(settings: Settings) -> Runtime:
    # Only the local Cosmos stand-in (signed in with a key) needs its containers made here.
    ca = settings.store.cosmos_ca_bundle
    store = open_store(
        settings,
        create_containers=settings.store.cosmos_key is not None,
        ca_bundle=str(ca) if ca else None,
    )
    return Runtime(
        settings=settings,
        records=Records(store),
        fleet=FleetGateway(settings),
        publisher=publisher_for(settings),
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
