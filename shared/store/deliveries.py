"""Deliveries: webhook and event ids seen once, so a redelivery is not handled twice."""

from typing import ClassVar

from pydantic import Field

from shared.store.base import Conflict, Store
from shared.store.containers import DELIVERIES, encode_id
from shared.store.record import Record, SafeId, _Repository
from shared.times import Clock, UtcTime


class Delivery(Record):
    """A webhook delivery or event id seen once. Partition key: `source`."""

    container: ClassVar[str] = DELIVERIES

    id: str = Field(min_length=1)
    delivery_id: str = Field(min_length=1)
    source: SafeId
    received_at: UtcTime
    ttl: int | None = None
    dispatched: bool = True
    """False while the work it starts is being handed over: a redelivery then hands it over
    again (idempotently) instead of being dropped as a duplicate."""


class DeliveryRepository(_Repository[Delivery]):
    model = Delivery

    def __init__(self, store: Store, now: Clock, ttl: int) -> None:
        super().__init__(store, now)
        self.ttl = ttl

    def claim(self, source: str, delivery_id: str) -> Delivery | None:
        """Start handling a delivery: None the first time; the earlier record otherwise
        (its `dispatched` says whether that attempt finished handing its work over)."""
        delivery = Delivery(
            id=encode_id(delivery_id),
            delivery_id=delivery_id,
            source=source,
            received_at=self.now(),
            ttl=self.ttl,
            dispatched=False,
        )
        try:
            self.create(delivery)
        except Conflict:
            return self._find(source, encode_id(delivery_id)) or delivery
        return None

    def mark_dispatched(self, source: str, delivery_id: str) -> None:
        """The work this delivery starts has been handed over durably."""
        self._update(
            source,
            encode_id(delivery_id),
            lambda d: None if d.dispatched else d.model_copy(update={"dispatched": True}),
            None,
            10,
        )

    def record(self, source: str, delivery_id: str) -> bool:
        """True the first time a delivery is seen, False for a duplicate (within the TTL)."""
        if self.claim(source, delivery_id) is not None:
            return False
        self.mark_dispatched(source, delivery_id)
        return True
