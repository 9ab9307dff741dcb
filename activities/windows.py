"""Maintenance windows as the activities see them: a plan's warning about windows that never
open together, and the first write of a wave that has windows, both on the rollout's timeline.

Which clusters may be written now is `shared.maintenance.WriteGate`'s; an operator's
override (`RolloutControl.windows_override`) opens every gate of the rollout. A write chosen
inside a window carries the window's close as its deadline (`deadlines`): the fleet gateway
does not send it once that has passed (a `WindowClosed` outcome), however long it waited for
ARM's write budget, so no cluster is written outside its windows.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from shared.logs import fields
from shared.maintenance import HORIZON, WriteGate, never_open
from shared.plan import Plan
from shared.reasons import Reason
from shared.runtime import Runtime
from shared.states import WaveState
from shared.store import ClusterRecord, RolloutRecord
from shared.times import format_time
from shared.trackspec import TrackSpec

log = logging.getLogger("arcwave.activities.windows")


def gate_of(rt: Runtime, rollout: RolloutRecord, spec: TrackSpec) -> WriteGate:
    """The rollout's gate now: its spec's windows, open everywhere once an operator
    overrode them."""
    return WriteGate(
        spec.maintenance_windows, rt.now(), overridden=rollout.control.windows_override is not None
    )


def deadlines(gate: WriteGate, records: Sequence[ClusterRecord]) -> dict[str, datetime]:
    """Cluster id → the time after which its write must not be sent: the close of the
    opening of its windows it is in now. Clusters with no deadline (no window binds them, or
    the windows are overridden) are left out."""
    return {r.cluster_id: closes for r in records if (closes := gate.closes(r.windows)) is not None}


def next_opening(gate: WriteGate, records: Sequence[ClusterRecord]) -> str | None:
    """When the first of `records` may be written (`format_time`); None when none of their
    windows open within the horizon."""
    times = [t for r in records if (t := gate.opening(r.windows)) is not None]
    return format_time(min(times)) if times else None


def warn_of_closed_windows(
    rt: Runtime,
    rollout_id: str,
    spec: TrackSpec,
    planned: Plan,
    bound: Mapping[str, Sequence[str]],
    now: datetime,
) -> None:
    """Say on the timeline (once per wave) which clusters of a wave have windows that do not
    open together within the horizon: they would wait until an operator overrides the windows
    or aborts the rollout."""
    for wave in planned.waves:
        sets = never_open(
            spec.maintenance_windows, (bound.get(c.id, []) for c in wave.clusters), now
        )
        if not sets:
            continue
        stuck = sum(1 for c in wave.clusters if sorted(bound.get(c.id, [])) in sets)
        described = "; ".join(", ".join(names) for names in sets)
        message = (
            f"wave '{wave.name}': the maintenance windows of {stuck} of {len(wave.clusters)} "
            f"clusters never open together within {HORIZON.days} days ({described}); those "
            "clusters wait until an operator overrides the windows (arcwave rollouts "
            "override-windows) or aborts the rollout"
        )
        key = f"plan/windows/{wave.name}"
        if rt.records.timeline.append(
            rollout_id,
            key,
            actor="arcwave",
            reason=Reason.OUTSIDE_MAINTENANCE_WINDOW,
            message=message,
            data={"wave": wave.name, "windows": sets},
            time=now,
        ):
            log.warning(
                "decision %s",
                fields(
                    rollout=rollout_id,
                    track=spec.name,
                    step=key,
                    reason=Reason.OUTSIDE_MAINTENANCE_WINDOW.value,
                    actor="arcwave",
                    message=message,
                ),
            )


def note_first_write(
    rt: Runtime,
    rollout_id: str,
    wave: str,
    records: Sequence[ClusterRecord],
    written: int,
    gate: WriteGate,
    at: datetime,
) -> None:
    """The first write of a wave that has windows (some of its `records` are bound by one, or
    the rollout's windows were overridden), on the timeline at `at`, the time of that write:
    when the wave began writing, apart from when it began waiting."""
    if not written or not (gate.overridden or any(r.windows for r in records)):
        return
    how = " (maintenance windows overridden)" if gate.overridden else ", inside their windows"
    rt.records.timeline.append(
        rollout_id,
        f"wave/{wave}/first-write",
        actor="arcwave",
        reason=Reason.REVISION_APPLIED,
        message=f"first write of wave '{wave}': {written} clusters written{how}",
        data={
            "wave": wave,
            "waveState": WaveState.APPLYING.value,
            "written": written,
            "firstWrite": True,
        },
        time=at,
    )
