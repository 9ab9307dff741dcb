"""How long a cluster takes from arcwave's write to its Healthy verdict, for the ETA.

In order: the wave's `expectedReconcile`, the track's, the median of what the track's clusters
took lately (each cluster's record keeps how long its last write took to turn Healthy,
`reconciledIn`, from one rollout to the next), else `DEFAULT_RECONCILE`. A learned time
includes the wait for the look that reads the verdict, as it happens; a configured one should
too (half a poll interval on average, unless Flux events wake the wave first).
"""

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.eta_model import ReconcileEta, ReconcileSource
from shared.states import ClusterState
from shared.store import ClusterRecord
from shared.trackspec import TrackSpec, Wave

DEFAULT_RECONCILE = timedelta(minutes=2)
"""When nothing is configured and the history is too thin: a Flux configuration change on an
Arc cluster usually shows as Compliant in ARM within a minute or two."""
MIN_SAMPLES = 3
"""Fewer settled clusters than this teach nothing: the default is used instead."""
RECENT = 200
"""The newest verdicts the median is taken over."""


def learned_reconcile(records: Iterable[ClusterRecord]) -> ReconcileEta | None:
    """The median write → Healthy time of the newest `RECENT` Healthy verdicts among `records`
    (a track's cluster records: each keeps its last one across rollouts); None below
    `MIN_SAMPLES`."""
    settled = sorted(filter(None, map(_last_reconcile, records)), reverse=True)[:RECENT]
    if len(settled) < MIN_SAMPLES:
        return None
    median = statistics.median(seconds for _, seconds in settled)
    return ReconcileEta(
        duration=timedelta(seconds=median), source=ReconcileSource.HISTORY, samples=len(settled)
    )


def _last_reconcile(record: ClusterRecord) -> tuple[datetime, float] | None:
    """When the cluster last turned Healthy after a write, and how many seconds that took
    (read from its write and verdict times on a record kept before `reconciledIn` was)."""
    if record.reconciled_in is not None and record.reconciled_at is not None:
        return record.reconciled_at, record.reconciled_in
    written, settled = record.written_at, record.settled_at
    if record.state is ClusterState.HEALTHY and written and settled and settled > written:
        return settled, (settled - written).total_seconds()
    return None


def expected_reconcile(spec: TrackSpec, wave: Wave, learned: ReconcileEta | None) -> ReconcileEta:
    """The reconcile time the ETA gives each cluster of `wave`, and where it comes from."""
    if wave.expected_reconcile is not None:
        return ReconcileEta(duration=wave.expected_reconcile, source=ReconcileSource.WAVE)
    if spec.expected_reconcile is not None:
        return ReconcileEta(duration=spec.expected_reconcile, source=ReconcileSource.TRACK)
    if learned is not None:
        return learned
    return ReconcileEta(duration=DEFAULT_RECONCILE, source=ReconcileSource.DEFAULT)
