"""publish_event: one lifecycle event outside a rollout's steps (drift, catch-up)."""

from typing import TypedDict

import azure.durable_functions as df

from activities.contracts import PUBLISH
from activities.runtime import Runtime, runtime
from shared.events import EventType, lifecycle_event
from shared.reasons import Reason
from shared.store.records import utc_now

bp = df.Blueprint()


class EventRequest(TypedDict):
    type: str
    track: str
    subject: str
    key: str
    """Names the occurrence; the event id derives from it, so a retry sends the same id."""
    reason: str
    message: str
    data: dict[str, object]


def publish(rt: Runtime, request: EventRequest) -> None:
    rt.publisher.publish(
        [
            lifecycle_event(
                EventType(request["type"]),
                track=request["track"],
                subject=request["subject"],
                time=utc_now(),
                reason=Reason(request["reason"]),
                message=request["message"],
                data=dict(request.get("data", {})),
                discriminator=request["key"],
            )
        ]
    )


@bp.activity_trigger(input_name="request", activity=PUBLISH)
def publish_event(request: EventRequest) -> None:
    publish(runtime(), request)
