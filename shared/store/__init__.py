"""The state store: tracks, rollouts, cluster states, timeline and deliveries.

`open_store(settings)` gives a `Store` (Cosmos DB in Azure, SQLite locally); `Records(store)`
gives typed repositories over it. Only activities (and the local tools) use the store;
orchestrators pass ids and counts. docs/store.md describes containers, ids, ETags and TTL.
The Cosmos adapter is imported only when a Cosmos store is opened.
"""

from shared.store.base import (
    Conflict,
    Document,
    DocumentTooLarge,
    NotFound,
    PreconditionFailed,
    Store,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
)
from shared.store.clusters import ClusterRecord, RestorePoint, cluster_key
from shared.store.containers import Layout, decode_id, encode_id
from shared.store.deliveries import Delivery
from shared.store.factory import open_store
from shared.store.record import update_with_retry
from shared.store.records import Records
from shared.store.rollouts import (
    CommandRefused,
    RolloutControl,
    RolloutNotPlanned,
    RolloutRecord,
    Trigger,
    WaveStatus,
    WaveSummary,
)
from shared.store.timeline import TimelineEntry
from shared.store.tracks import TrackRecord

__all__ = [
    "ClusterRecord",
    "CommandRefused",
    "Conflict",
    "Delivery",
    "Document",
    "DocumentTooLarge",
    "Layout",
    "NotFound",
    "PreconditionFailed",
    "Records",
    "RestorePoint",
    "RolloutControl",
    "RolloutNotPlanned",
    "RolloutRecord",
    "Store",
    "StoreError",
    "StoreMisconfigured",
    "StoreUnavailable",
    "TimelineEntry",
    "TrackRecord",
    "Trigger",
    "WaveStatus",
    "WaveSummary",
    "cluster_key",
    "decode_id",
    "encode_id",
    "open_store",
    "update_with_retry",
]
