"""When a wave looks again near its end: sooner than its poll interval, a bounded number of times.

A wave's verdict waits for its last cluster in flight. Flux events wake the wave as clusters
reconcile (`triggers/flux.py`), but an event may be lost, rate-limited or come before Azure
shows the status, and the poll interval (10 s by default) is long next to a reconcile of a
second or two. So once nothing is left to write, the wave also looks on a cadence of its own:

    from the last write of the clusters in flight, or from when that write is expected to
        have reconciled when the track states how long a reconcile takes (`expectedReconcile`),
    look again after as long again as the look is past that moment: at 0.25 s, 0.5 s, 1 s,
        2 s, 4 s, 8 s ... (never sooner than 0.25 s after the last look)

A cluster that settles t seconds after that moment is seen by 2t at most (0.25 s at least), and
the looks thin out to the poll interval after about log2(poll / 0.25 s) + 2 of them: seven with
the default poll of 10 s (0.25 s ... 8 s, 16 s). A cluster already late by more than the poll
interval gets no early look: the poll interval stays the safety net. A wave takes at most
`EARLY_LOOKS` looks sooner than its poll, so its history stays bounded.

Everything here is plain arithmetic on times: the activity computes the hint from its clock
(`nextLookIn`, seconds from now), the orchestrator turns it into a durable timer.
"""

from datetime import datetime, timedelta

MIN_LOOK_SECONDS = 0.25
"""The soonest a wave looks again after a look: sooner would mostly see what the last look saw,
for the cost of its history events and its reads of ARM and Resource Graph."""
EARLY_LOOKS = 12
"""The most looks one wave takes sooner than its poll, each 8 history events (an activity and a
timer): with the default poll of 10 s the cadence takes seven per stretch of waiting, so a second
stretch (a leftover written again, a rollback's second round) still gets the first five."""


def next_look_in(last_write: datetime, expected: timedelta | None, now: datetime) -> float:
    """Seconds from `now` until the wave should look again, for clusters in flight whose latest
    write was at `last_write`, each expected to reconcile in `expected` (None: unknown)."""
    due = last_write + (expected or timedelta(0))
    if now < due:
        return max(MIN_LOOK_SECONDS, (due - now).total_seconds())
    return max(MIN_LOOK_SECONDS, (now - due).total_seconds())
