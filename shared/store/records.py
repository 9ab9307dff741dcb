"""The documents arcwave keeps, as typed records, and small repositories over the store.

Records are `WireModel`s (camelCase on the wire, frozen): change one with
`record.model_copy(update={...})`. A record read from the store remembers its ETag
(`record.etag`, never written back), so a later `save(record, if_match=record.etag)` only
succeeds when nobody wrote in between. `update` does the whole read-modify-write loop:

    records.rollouts.update("baseline", rollout_id,
        lambda r: r.model_copy(update={"state": RolloutState.PAUSED, "reason": Reason.PAUSED}))

Times are UTC and always written with microseconds (`2026-11-26T12:00:00.000000Z`), so
sorting the text sorts the times, in SQLite and in Cosmos alike.
"""

import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import AfterValidator, Field, PlainSerializer, model_validator

from shared.errors import PermanentError
from shared.plan import Plan
from shared.reasons import Reason
from shared.states import ClusterState, RestoreKind, RolloutState, WaveState
from shared.store.base import (
    SYSTEM_FIELDS,
    Conflict,
    Document,
    NotFound,
    PreconditionFailed,
    Store,
)
from shared.store.containers import (
    CLUSTERS,
    DELIVERIES,
    ROLLOUTS,
    TIMELINE,
    TRACKS,
    Layout,
    encode_id,
)
from shared.trackspec import TrackSpec
from shared.wire import WireModel

Clock = Callable[[], datetime]
"""Where records take "now" from; tests pass a fixed or stepping clock."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time must carry its timezone (arcwave stores UTC)")
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """`2026-11-26T12:00:00.000000Z`: fixed width, so text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UtcTime = Annotated[
    datetime,
    AfterValidator(_aware_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]
"""A timezone-aware time, kept in UTC and written in one fixed-width format."""


def _safe_id(value: str) -> str:
    if encode_id(value) != value:
        raise ValueError(
            f"'{value}' cannot be an id: ids must not hold / \\ ? # ~ and must fit 1,023 bytes"
        )
    return value


SafeId = Annotated[str, Field(min_length=1), AfterValidator(_safe_id)]
"""An id Cosmos accepts as it is (track names, rollout ids)."""

Counts = dict[ClusterState, int]
"""How many clusters are in each state."""


class Record(WireModel):
    """A document of one container; `etag` is the version it was read at (None when new)."""

    container: ClassVar[str]
    etag: str | None = Field(default=None, exclude=True)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Self:
        body = {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}
        return cls.model_validate({**body, "etag": doc.get("_etag")})

    def to_document(self) -> Document:
        return self.to_wire()


class TrackRecord(Record):
    """One track: its spec and where its revisions stand. Partition key: `id`."""

    container: ClassVar[str] = TRACKS

    id: SafeId
    """The track name."""
    spec: dict[str, Any]
    """The track spec as wire JSON (`TrackSpec.to_wire()`)."""
    current_revision: str | None = None
    """The revision the track points at (the newest rollout's target)."""
    last_good_revision: str | None = None
    """The newest revision every wave accepted; rollback and catch-up go here."""
    active_rollout_id: str | None = None
    spec_version: str = ""
    """Changes with every write of the spec (never with rollout bookkeeping): the API's ETag."""
    updated_at: UtcTime

    @classmethod
    def for_spec(cls, spec: TrackSpec, now: datetime) -> "TrackRecord":
        return cls(id=spec.name, spec=spec.to_wire(), spec_version=new_version(), updated_at=now)

    def with_spec(self, spec: TrackSpec) -> "TrackRecord":
        """This track with a new spec (and so a new `spec_version`)."""
        return self.model_copy(update={"spec": spec.to_wire(), "spec_version": new_version()})

    def track_spec(self) -> TrackSpec:
        return TrackSpec.model_validate(self.spec)


def new_version() -> str:
    return uuid.uuid4().hex[:16]


class Trigger(WireModel):
    """What started a rollout: a git push, an event, an operator, a catch-up."""

    kind: str = Field(min_length=1)
    actor: str = Field(min_length=1)
    delivery_id: str | None = None


class WaveSummary(WireModel):
    """One wave of the plan, as counts: the plan itself is too big for a document."""

    name: str
    clusters: int = Field(ge=0)
    max_in_flight: int = Field(ge=0)
    """Clusters between their write and their verdict at any instant (`maxConcurrency`)."""
    max_per_site: int | None = Field(default=None, ge=1)


class WaveStatus(WireModel):
    """Where one wave of a rollout stands and why."""

    name: str
    state: WaveState = WaveState.PENDING
    reason: Reason | None = None
    message: str = ""
    counts: Counts = Field(default_factory=dict)


class RolloutControl(WireModel):
    """What operators and the track asked of a running rollout; honoured at safe points."""

    paused: bool = False
    abort: bool = False
    rollback: bool = False
    """With `abort`: restore what the rollout changed."""
    superseded: bool = False
    """A newer revision replaces this rollout (supersede: restart)."""
    approvals: dict[str, str] = Field(default_factory=dict)
    """Wave name → who approved it."""


class RolloutRecord(Record):
    """One rollout of a track. Partition key: `track`."""

    container: ClassVar[str] = ROLLOUTS

    id: SafeId
    track: SafeId
    revision: str
    previous_revision: str | None = None
    state: RolloutState = RolloutState.PENDING
    reason: Reason = Reason.ROLLOUT_STARTED
    message: str = ""
    trigger: Trigger
    created_at: UtcTime
    updated_at: UtcTime
    plan: list[WaveSummary] = Field(default_factory=list)
    waves: list[WaveStatus] = Field(default_factory=list)
    counts: Counts = Field(default_factory=dict)
    control: RolloutControl = Field(default_factory=RolloutControl)
    clusters: list[str] | None = None
    """A catch-up's clusters (None: the track's whole fleet)."""
    spec: dict[str, Any] | None = None
    """The track spec as planned (wire JSON): every write and rollback of this rollout uses
    it, whatever happens to the track's spec meanwhile."""
    spec_version: str | None = None
    """The track's `specVersion` the snapshot was taken at."""

    def with_plan(self, plan: Plan, spec: TrackSpec, spec_version: str) -> "RolloutRecord":
        """This rollout with the plan's summary, one pending status per wave, and the spec
        it was planned with."""
        return self.model_copy(
            update={
                "plan": [
                    WaveSummary(
                        name=w.name,
                        clusters=len(w.clusters),
                        max_in_flight=w.max_in_flight,
                        max_per_site=w.max_per_site,
                    )
                    for w in plan.waves
                ],
                "waves": [WaveStatus(name=w.name) for w in plan.waves],
                "spec": spec.to_wire(),
                "spec_version": spec_version,
            }
        )

    def planned_spec(self) -> TrackSpec:
        """The spec this rollout runs; `PermanentError` before it was planned."""
        if self.spec is None:
            raise RolloutNotPlanned(f"rollout '{self.id}' has not been planned yet")
        return TrackSpec.model_validate(self.spec)

    def wave(self, name: str) -> WaveStatus:
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(f"rollout '{self.id}' has no wave '{name}'")


def cluster_key(cluster_id: str) -> str:
    """The document id of a cluster: ARM ids are case-insensitive, so the lower-cased id."""
    return encode_id(cluster_id.lower())


class RolloutNotPlanned(PermanentError):
    """A step that needs the rollout's plan ran before the plan was stored."""


class RestorePoint(WireModel):
    """The fluxConfiguration arcwave found on a cluster before its first write there.

    `configuration` is None when there was none (arcwave created it). Write-only fields
    (`configurationProtectedSettings`) are never readable, so never part of it."""

    captured_at: UtcTime
    configuration: dict[str, Any] | None = None


class ClusterRecord(Record):
    """One cluster within one track. Partition key: `track`; id: `cluster_key(clusterId)`."""

    container: ClassVar[str] = CLUSTERS

    id: str = ""
    cluster_id: str = Field(min_length=1)
    """The ARM id of the Arc connected cluster, as discovered."""
    name: str
    track: SafeId
    wave: str | None = None
    position: int | None = Field(default=None, ge=0)
    """The cluster's place in its wave's write order (0-based) in the plan of
    `last_rollout_id`."""
    site: str | None = None
    """The cluster's site tag when planned (`perSiteConcurrency` counts by it)."""
    desired_revision: str | None = None
    """What arcwave last asked the cluster to run (attempted, not yet known to be applied)."""
    applied_revision: str | None = None
    """What Flux reports the cluster runs."""
    last_good_revision: str | None = None
    """The newest revision the cluster was healthy at."""
    state: ClusterState = ClusterState.PENDING
    reason: Reason | None = None
    message: str = ""
    last_rollout_id: str | None = None
    written_at: UtcTime | None = None
    """When arcwave last wrote (or restored) the cluster: its progress deadline runs from here."""
    settled_at: UtcTime | None = None
    """When the last write was judged (Healthy, Failed, RolledBack...)."""
    restore_point: RestorePoint | None = None
    """What a rollback restores when the cluster has no last good revision."""
    restoring: RestoreKind | None = None
    """While rolling back: what the cluster is being brought back to."""
    written_shape: str | None = None
    """The shape of arcwave's last full write (shared.desired.shape): the same shape next
    time means a pin change is a PATCH."""
    written_scope: str | None = None
    written_namespace: str | None = None
    """The create-only fields of the configuration arcwave last wrote."""
    recreating: bool = False
    """A re-create deleted the configuration; it is written again once Azure removed it."""
    drift_reverted: str | None = None
    """The desired revision arcwave last wrote back after drift: drift again at the same
    revision is not reverted again (DriftRecurring)."""
    updated_at: UtcTime

    @model_validator(mode="before")
    @classmethod
    def _id_from_cluster_id(cls, data: Any) -> Any:
        if isinstance(data, dict):
            cluster_id = data.get("clusterId", data.get("cluster_id"))
            if isinstance(cluster_id, str) and cluster_id and not data.get("id"):
                data = {**data, "id": cluster_key(cluster_id)}
        return data

    @model_validator(mode="after")
    def _id_matches(self) -> Self:
        if self.id != cluster_key(self.cluster_id):
            raise ValueError(
                f"id must be cluster_key(clusterId) = '{cluster_key(self.cluster_id)}'"
            )
        return self


class TimelineEntry(Record):
    """One audit entry of a rollout: who did what, when and why. Partition key: `rolloutId`.

    The id is derived from a key that names the event within the rollout (for example
    `wave/canary/started`), so a retried activity writes the entry once."""

    container: ClassVar[str] = TIMELINE

    id: str = Field(min_length=1)
    rollout_id: SafeId
    time: UtcTime
    actor: str
    reason: Reason
    message: str
    data: dict[str, Any] = Field(default_factory=dict)
    ttl: int | None = None


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


# -- the read-modify-write loop ----------------------------------------------------------------


def update_with_retry(
    store: Store,
    container: str,
    partition_key: str,
    id: str,
    mutate: Callable[[Document], Document | None],
    *,
    default: Callable[[], Document] | None = None,
    attempts: int = 10,
    sleep: Callable[[float], None] = time.sleep,
) -> Document:
    """Read, change and write back one document, retrying when another writer got there first.

    `mutate` gets a copy of the current document and returns the new one, or None to leave
    it as it is. When the document does not exist, `default()` is mutated and created
    (`NotFound` without a default, or when `mutate` returns None for it). A lost race
    (`PreconditionFailed`, or `Conflict` on create) re-reads and calls `mutate` again, up to
    `attempts` times, with a short random pause between tries so racing writers spread out.
    """
    for attempt in range(attempts):
        if attempt:
            sleep(random.uniform(0, 0.005 * min(attempt, 10)))
        try:
            current: Document | None = store.get(container, partition_key, id)
        except NotFound:
            if default is None:
                raise
            current = None
        if current is not None:
            changed = mutate(dict(current))
        else:
            assert default is not None
            changed = mutate(default())
        if changed is None:
            if current is None:
                raise NotFound(
                    f"document '{id}' in '{container}' (partition '{partition_key}') does not "
                    "exist and the change left the default unwritten",
                    container=container,
                    id=id,
                )
            return current
        try:
            if current is None:
                return store.create(container, changed)
            return store.replace(container, changed, if_match=current["_etag"])
        except (PreconditionFailed, Conflict):
            continue
        except NotFound:
            if default is None:
                raise
            continue
    raise PreconditionFailed(
        f"document '{id}' in '{container}' (partition '{partition_key}') kept changing: "
        f"gave up after {attempts} attempts",
        container=container,
        id=id,
    )


# -- repositories ------------------------------------------------------------------------------

R = TypeVar("R", bound=Record)


class _Repository(Generic[R]):
    model: type[R]

    def __init__(self, store: Store, now: Clock) -> None:
        self.store = store
        self.now = now

    @property
    def container(self) -> str:
        return self.model.container

    def _get(self, partition_key: str, id: str) -> R:
        return self.model.from_document(self.store.get(self.container, partition_key, id))

    def _find(self, partition_key: str, id: str) -> R | None:
        try:
            return self._get(partition_key, id)
        except NotFound:
            return None

    def _stamped(self, record: R) -> Document:
        """The document to write, with `updatedAt` set to now where the record has one."""
        if "updated_at" in type(record).model_fields:
            record = record.model_copy(update={"updated_at": self.now()})
        return record.to_document()

    def create(self, record: R) -> R:
        """Store a new record; `Conflict` when one with its id exists."""
        return self.model.from_document(self.store.create(self.container, self._stamped(record)))

    def save(self, record: R, *, if_match: str | None = None) -> R:
        """Create or replace; with `if_match` (usually `record.etag`) only over that version.
        Every write sets `updatedAt` from the repository's clock."""
        doc = self.store.upsert(self.container, self._stamped(record), if_match=if_match)
        return self.model.from_document(doc)

    def _update(
        self,
        partition_key: str,
        id: str,
        mutate: Callable[[R], R | None],
        default: Callable[[], R] | None,
        attempts: int,
    ) -> R:
        def on_document(doc: Document) -> Document | None:
            changed = mutate(self.model.from_document(doc))
            return None if changed is None else self._stamped(changed)

        doc = update_with_retry(
            self.store,
            self.container,
            partition_key,
            id,
            on_document,
            default=None if default is None else (lambda: default().to_wire()),
            attempts=attempts,
        )
        return self.model.from_document(doc)


class TrackRepository(_Repository[TrackRecord]):
    model = TrackRecord

    def get(self, name: str) -> TrackRecord:
        return self._get(name, name)

    def find(self, name: str) -> TrackRecord | None:
        return self._find(name, name)

    def update(
        self,
        name: str,
        mutate: Callable[[TrackRecord], TrackRecord | None],
        *,
        default: Callable[[], TrackRecord] | None = None,
        attempts: int = 10,
    ) -> TrackRecord:
        return self._update(name, name, mutate, default, attempts)

    def list(self) -> list[TrackRecord]:
        docs = self.store.query(self.container, None, order_by="id")
        return [TrackRecord.from_document(d) for d in docs]


class RolloutRepository(_Repository[RolloutRecord]):
    model = RolloutRecord

    def get(self, track: str, id: str) -> RolloutRecord:
        return self._get(track, id)

    def find(self, track: str, id: str) -> RolloutRecord | None:
        return self._find(track, id)

    def update(
        self,
        track: str,
        id: str,
        mutate: Callable[[RolloutRecord], RolloutRecord | None],
        *,
        attempts: int = 10,
    ) -> RolloutRecord:
        return self._update(track, id, mutate, None, attempts)

    def list(
        self,
        track: str | None = None,
        *,
        state: RolloutState | None = None,
        limit: int | None = None,
    ) -> list[RolloutRecord]:
        """Rollouts newest first, of one track or (track None) of all tracks."""
        where = {} if state is None else {"state": state.value}
        docs = self.store.query(
            self.container, track, where=where, order_by="createdAt", descending=True, limit=limit
        )
        return [RolloutRecord.from_document(d) for d in docs]

    def find_by_id(self, id: str) -> RolloutRecord | None:
        """A rollout by id alone, whatever its track (a cross-partition query)."""
        docs = self.store.query(self.container, None, where={"id": id}, limit=1)
        return RolloutRecord.from_document(docs[0]) if docs else None


class ClusterRepository(_Repository[ClusterRecord]):
    model = ClusterRecord

    def get(self, track: str, cluster_id: str) -> ClusterRecord:
        return self._get(track, cluster_key(cluster_id))

    def find(self, track: str, cluster_id: str) -> ClusterRecord | None:
        return self._find(track, cluster_key(cluster_id))

    def update(
        self,
        track: str,
        cluster_id: str,
        mutate: Callable[[ClusterRecord], ClusterRecord | None],
        *,
        default: Callable[[], ClusterRecord] | None = None,
        attempts: int = 10,
    ) -> ClusterRecord:
        return self._update(track, cluster_key(cluster_id), mutate, default, attempts)

    def save_wave(self, records: Iterable[ClusterRecord]) -> int:
        """Upsert the records of one wave at once (one transaction on SQLite, batches of
        100 on Cosmos); unconditional, as a wave's writer owns its clusters. Returns how
        many were written."""
        return len(self.store.upsert_many(self.container, [self._stamped(r) for r in records]))

    def list(
        self,
        track: str,
        *,
        rollout: str | None = None,
        wave: str | None = None,
        state: ClusterState | None = None,
    ) -> list[ClusterRecord]:
        """The cluster records of a track, by cluster id; optionally only those of one
        rollout's plan, of one wave, or in one state."""
        where: dict[str, str | int] = {}
        if rollout is not None:
            where["lastRolloutId"] = rollout
        if wave is not None:
            where["wave"] = wave
        if state is not None:
            where["state"] = state.value
        docs = self.store.query(self.container, track, where=where, order_by="id")
        return [ClusterRecord.from_document(d) for d in docs]


class TimelineRepository(_Repository[TimelineEntry]):
    model = TimelineEntry

    def __init__(self, store: Store, now: Clock, ttl: int) -> None:
        super().__init__(store, now)
        self.ttl = ttl

    def append(
        self,
        rollout_id: str,
        key: str,
        *,
        actor: str,
        reason: Reason,
        message: str,
        data: Mapping[str, Any] | None = None,
        time: datetime | None = None,
    ) -> bool:
        """Write the entry named `key` once; False when it was already written."""
        entry = TimelineEntry(
            id=encode_id(key),
            rollout_id=rollout_id,
            time=time or self.now(),
            actor=actor,
            reason=reason,
            message=message,
            data=dict(data or {}),
            ttl=self.ttl,
        )
        try:
            self.create(entry)
        except Conflict:
            return False
        return True

    def list(self, rollout_id: str, *, limit: int | None = None) -> list[TimelineEntry]:
        """A rollout's entries, oldest first."""
        docs = self.store.query(self.container, rollout_id, order_by="time", limit=limit)
        return [TimelineEntry.from_document(d) for d in docs]


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
