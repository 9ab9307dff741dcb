"""The event publisher: lifecycle CloudEvents to arcwave's Event Grid topic.

In Azure the app's managed identity sends to the custom topic (EventGrid Data Sender role);
locally a topic key and any endpoint that speaks Event Grid's CloudEvents delivery (devhost's
`/runtime/webhooks/eventgrid`, for one) will do. With no endpoint configured publishing is off:
events still reach the timeline through the caller, and start-up says so once.
"""

import logging
from collections.abc import Sequence
from typing import Protocol

from azure.core.credentials import AzureKeyCredential, TokenCredential
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridPublisherClient

from shared.adapters.arm import map_arm_error
from shared.events import LifecycleEvent
from shared.settings import Settings

log = logging.getLogger("arcwave.events")


class EventPublisher(Protocol):
    """Sends lifecycle events; raises `shared.errors` classes on failure."""

    def publish(self, events: Sequence[LifecycleEvent]) -> None: ...


class EventGridPublisher:
    """Publishes to an Event Grid topic (CloudEvents 1.0 schema)."""

    def __init__(
        self,
        endpoint: str,
        credential: AzureKeyCredential | TokenCredential,
        *,
        retry_total: int = 3,
    ) -> None:
        self._endpoint = endpoint
        self._client = EventGridPublisherClient(
            endpoint, credential, connection_timeout=10, read_timeout=30, retry_total=retry_total
        )

    def publish(self, events: Sequence[LifecycleEvent]) -> None:
        if not events:
            return
        batch = [
            CloudEvent(
                source=e.source,
                type=e.type.value,
                subject=e.subject,
                id=e.id,
                time=e.time,
                data=e.cloud_event_data(),
            )
            for e in events
        ]
        try:
            self._client.send(batch)
        except Exception as error:
            raise map_arm_error(error, f"failed to publish {len(batch)} events") from error
        # One per recorded decision, whose own line names the event: DEBUG.
        log.debug("published %d events (%s)", len(batch), ", ".join(e.type for e in events))


class DisabledPublisher:
    """Used when no topic is configured: events live in the timeline only."""

    def publish(self, events: Sequence[LifecycleEvent]) -> None:
        return None


def publisher_for(settings: Settings, credential: TokenCredential | None = None) -> EventPublisher:
    """The publisher the settings ask for; logs once when publishing is off."""
    if settings.eventgrid_endpoint is None:
        log.info("event publishing is off: ARCWAVE_EVENTGRID_ENDPOINT is not set")
        return DisabledPublisher()
    if settings.eventgrid_key is not None:
        key = AzureKeyCredential(settings.eventgrid_key.get_secret_value())
        return EventGridPublisher(settings.eventgrid_endpoint, key)
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return EventGridPublisher(settings.eventgrid_endpoint, credential)
