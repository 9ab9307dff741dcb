"""Clusters: one document per (track, cluster), with what arcwave asked of it and knows of it."""

import functools
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from shared.reasons import Reason
from shared.revision import short_revision
from shared.states import ClusterState, RestoreKind
from shared.store.containers import CLUSTERS, encode_id
from shared.store.record import Record, SafeId, _Repository
from shared.telemetry.meters import cluster_saved
from shared.times import UtcTime
from shared.wire import WireModel


@functools.lru_cache(maxsize=1 << 16)
def cluster_key(cluster_id: str) -> str:
    """The document id of a cluster: ARM ids are case-insensitive, so the lower-cased id.
    Cached: a plan of 10,000 clusters asks for each a few times."""
    return encode_id(cluster_id.lower())


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
    windows: list[str] = Field(default_factory=list)
    """The maintenance windows (names in its rollout's spec) that bind the cluster in the
    rollout of `last_rollout_id`: it is written only while all of them are open."""
    reconciled_in: float | None = Field(default=None, ge=0)
    """Seconds from arcwave's last write to the cluster's last Healthy verdict (at
    `reconciled_at`); kept from one rollout to the next, so the ETA learns from it."""
    reconciled_at: UtcTime | None = None
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

    # -- transitions: every change of a cluster's state goes through one of these -----------

    def moved(
        self, state: ClusterState, reason: Reason, message: str, at: datetime, **fields: Any
    ) -> Self:
        """This cluster in `state` for `reason`, validated like any record; stamped
        `settledAt` when it leaves flight (or settles without flying, as a skip)."""
        change: dict[str, Any] = {"state": state, "reason": reason, "message": message, **fields}
        unsettled = self.state.is_open or self.state is ClusterState.PENDING
        if unsettled and not state.is_open and state is not ClusterState.PENDING:
            change["settled_at"] = at
        moved = type(self).model_validate(self.model_copy(update=change).model_dump(by_alias=True))
        return moved.model_copy(update={"etag": self.etag})

    def applying(self, revision: str, at: datetime) -> Self:
        """About to be written with `revision` (recorded ahead of the write)."""
        return self.moved(
            ClusterState.APPLYING,
            Reason.PROGRESSING,
            f"writing {short_revision(revision)}",
            at,
            desired_revision=revision,
            written_at=at,
            settled_at=None,
        )

    def pinned(self, revision: str, at: datetime, *, patched: bool, **written: Any) -> Self:
        """Written; Flux has yet to report on it."""
        how = " (pin moved; nothing else touched)" if patched else ""
        return self.moved(
            ClusterState.PROGRESSING,
            Reason.REVISION_APPLIED,
            f"pinned to {short_revision(revision)}{how}",
            at,
            **written,
        )

    def progressing(self, reason: Reason, message: str, at: datetime) -> Self:
        """Still on its way (a rollback stays Rolling back)."""
        if self.state is ClusterState.ROLLING_BACK:
            return self.moved(ClusterState.ROLLING_BACK, Reason.ROLLING_BACK, message, at)
        return self.moved(ClusterState.PROGRESSING, reason, message, at)

    def offline(self, reason: Reason, message: str, at: datetime) -> Self:
        """Written, and its cluster went offline (`offline: wait`)."""
        return self.moved(ClusterState.OFFLINE, reason, message, at)

    def failed(self, reason: Reason, message: str, at: datetime) -> Self:
        return self.moved(ClusterState.FAILED, reason, message, at)

    def skipped_offline(self, message: str, at: datetime) -> Self:
        """Left for catch-up (`offline: skip`): not a failure, not written."""
        return self.moved(ClusterState.SKIPPED, Reason.SKIPPED_OFFLINE, message, at)

    def unwritten(self, message: str) -> Self:
        """Never written: its wave spent its failure budget first."""
        return self.moved(
            ClusterState.PENDING, Reason.FAILURE_BUDGET_EXCEEDED, message, self.updated_at
        )

    def healthy(self, reason: Reason, message: str, at: datetime) -> Self:
        """Flux reports it healthy at what it was asked to run (and how long that took since
        the write, for the ETA)."""
        took: dict[str, Any] = {}
        if self.written_at is not None and at >= self.written_at:
            took = {"reconciled_in": (at - self.written_at).total_seconds(), "reconciled_at": at}
        return self.moved(
            ClusterState.HEALTHY,
            reason,
            message,
            at,
            applied_revision=self.desired_revision,
            **took,
        )

    def being_restored(
        self, kind: RestoreKind, target: str | None, message: str, at: datetime, **written: Any
    ) -> Self:
        """Being brought back to `target` (`kind`) by a rollback."""
        return self.moved(
            ClusterState.ROLLING_BACK,
            Reason.ROLLING_BACK,
            message,
            at,
            **written,
            desired_revision=target,
            restoring=kind,
            written_at=at,
            settled_at=None,
        )

    def rolled_back(self, message: str, at: datetime) -> Self:
        return self.moved(
            ClusterState.ROLLED_BACK,
            Reason.ROLLED_BACK,
            message,
            at,
            applied_revision=self.desired_revision,
        )

    def rollback_failed(self, message: str, at: datetime) -> Self:
        """A rollback that could not bring it back (settled, whatever it was before)."""
        return self.moved(
            ClusterState.ROLLBACK_FAILED, Reason.ROLLBACK_FAILED, message, at, settled_at=at
        )


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
        many were written. Each record counts as a transition into its state
        (`arcwave.cluster.transitions`; a retried write counts again)."""
        records = list(records)
        written = len(self.store.upsert_many(self.container, self._stamped_all(records)))
        moves = Counter(
            (r.track, r.state.value, r.reason.value if r.reason else None) for r in records
        )
        for (track, state, reason), count in moves.items():
            cluster_saved(state, reason, track, count)
        return written

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

    def carried(self, track: str, fields: Collection[str]) -> dict[str, dict[str, Any]]:
        """`fields` (ClusterRecord's names) of every cluster record of a track, by record id,
        as stored (JSON values, for a new record to validate); fields not set are left out.
        What a plan carries over from one rollout to the next, without reading each whole
        record: at 10,000 clusters that is on the way from a push to its first write."""
        wire = {
            name: ClusterRecord.model_fields[name].serialization_alias or name for name in fields
        }
        docs = self.store.query(self.container, track)
        return {
            d["id"]: {name: d[key] for name, key in wire.items() if d.get(key) is not None}
            for d in docs
        }
