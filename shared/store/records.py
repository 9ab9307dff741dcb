"""The repositories of one store, together: `records.rollouts.list("baseline")` and so on.

Each kind of document has its module (tracks, rollouts, clusters, timeline, deliveries) with
its record type and repository; `shared.store.record` holds what they share.
"""

from shared.store.base import Store
from shared.store.clusters import ClusterRepository
from shared.store.containers import Layout
from shared.store.deliveries import DeliveryRepository
from shared.store.rollouts import RolloutRepository
from shared.store.timeline import TimelineRepository
from shared.store.tracks import TrackRepository
from shared.times import Clock, utc_now


class Records:
    """The repositories of one store: `records.rollouts.list("baseline")` and so on."""

    def __init__(self, store: Store, *, layout: Layout | None = None, now: Clock = utc_now):
        layout = layout or getattr(store, "layout", None) or Layout()
        self.store = store
        self.tracks = TrackRepository(store, now)
        self.rollouts = RolloutRepository(store, now)
        self.clusters = ClusterRepository(store, now)
        self.timeline = TimelineRepository(store, now, layout.timeline_ttl)
        self.deliveries = DeliveryRepository(store, now, layout.delivery_ttl)

    def record_delivery(self, source: str, delivery_id: str) -> bool:
        """True when the delivery is new, False for a duplicate: dedupe for webhooks."""
        return self.deliveries.record(source, delivery_id)
