"""read_recovery: what closing a rollout whose orchestration ended without closing it needs.

An orchestration can end without recording its rollout's end: terminated by hand, purged, or
failed while the store was unreachable for longer than every retry. The rollout record then
still says it runs. The track (or the reconciliation timer, through the track) starts a
recovery that reads here what the rollout changed, records `Failed` and applies the rollout's
`onFailure` to those clusters.
"""

import azure.durable_functions as df

from activities.restore import written_by
from shared.contracts.activities import RECOVERY, RecoveryBrief, RolloutRef
from shared.runtime import Runtime, act

bp = df.Blueprint()


def read_recovery(rt: Runtime, ref: RolloutRef) -> RecoveryBrief:
    rollout = rt.records.rollouts.get(ref["track"], ref["rolloutId"])
    records = rt.records.clusters.list(ref["track"], rollout=ref["rolloutId"])
    touched = {r.wave for r in written_by(records, rollout.revision)}
    on_failure = rollout.planned_spec().on_failure.value if rollout.spec else "halt"
    return RecoveryBrief(
        state=rollout.state.value,
        changed=[w.name for w in rollout.waves if w.name in touched],
        onFailure="halt" if rollout.clusters else on_failure,
    )


@bp.activity_trigger(input_name="ref", activity=RECOVERY)
def read_recovery_activity(ref: RolloutRef) -> RecoveryBrief:
    return act(read_recovery, ref, RECOVERY)
