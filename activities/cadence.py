"""The hint a wave's step gives its orchestrator near the end: when to look again
(`shared.cadence`), from the clusters still in flight and the reconcile time the track states.

Only a stated `expectedReconcile` (the wave's, else the track's) moves the first look: the
time the ETA learns from history is each cluster's write to the look that saw it Healthy, so
it carries up to a poll interval of waiting and would put the first look about where the poll
is anyway. Without one, the looks start from the write itself.
"""

from datetime import datetime

from shared.cadence import next_look_in
from shared.store import ClusterRecord
from shared.trackspec import TrackSpec


def next_look(
    spec: TrackSpec, wave: str, records: list[ClusterRecord], now: datetime, *, wrote: bool
) -> float | None:
    """Seconds until the wave should look again at its clusters in flight; None when none is.
    `wrote`: this step wrote some of them, the last just now (a record says when its write was
    recorded ahead; ARM's write budget may have sent it many seconds later)."""
    written = [r.written_at for r in records if r.state.is_open and r.written_at is not None]
    if not written:
        return None
    expected = spec.wave(wave).expected_reconcile or spec.expected_reconcile
    return next_look_in(now if wrote else max(written), expected, now)
