"""The states of rollouts, waves and clusters, and the health of one cluster for one revision.

States say where a thing is; a `Reason` (shared.reasons) says why. Terminal states never
change again; which operator commands a rollout accepts is `RolloutRecord.refusal`'s rule.
"""

from enum import StrEnum


class RolloutState(StrEnum):
    """Where a rollout is."""

    PENDING = "Pending"
    RUNNING = "Running"
    WAITING_FOR_APPROVAL = "WaitingForApproval"
    PAUSED = "Paused"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ROLLED_BACK = "RolledBack"
    ABORTED = "Aborted"
    SUPERSEDED = "Superseded"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_ROLLOUT


_TERMINAL_ROLLOUT = frozenset(
    {
        RolloutState.SUCCEEDED,
        RolloutState.FAILED,
        RolloutState.ROLLED_BACK,
        RolloutState.ABORTED,
        RolloutState.SUPERSEDED,
    }
)


class Command(StrEnum):
    """Operator commands, delivered to a running rollout as external events."""

    APPROVE = "approve"
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"


class WaveState(StrEnum):
    """Where one wave of a rollout is."""

    PENDING = "Pending"
    WAITING_FOR_APPROVAL = "WaitingForApproval"
    APPLYING = "Applying"
    PROGRESSING = "Progressing"
    SOAKING = "Soaking"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ROLLED_BACK = "RolledBack"
    SKIPPED = "Skipped"

    @property
    def is_terminal(self) -> bool:
        return self in {
            WaveState.SUCCEEDED,
            WaveState.FAILED,
            WaveState.ROLLED_BACK,
            WaveState.SKIPPED,
        }


class HealthState(StrEnum):
    """The health of one cluster for one target revision, as read from ARM / Resource Graph."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    FAILED = "Failed"
    OFFLINE = "Offline"


class ClusterState(StrEnum):
    """Where one cluster is within a rollout."""

    PENDING = "Pending"
    APPLYING = "Applying"
    PROGRESSING = "Progressing"
    HEALTHY = "Healthy"
    FAILED = "Failed"
    OFFLINE = "Offline"
    SKIPPED = "Skipped"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"

    @property
    def is_open(self) -> bool:
        """Still on its way: a wave waits for these before it judges."""
        return self in {
            ClusterState.APPLYING,
            ClusterState.PROGRESSING,
            ClusterState.OFFLINE,
            ClusterState.ROLLING_BACK,
        }

    @property
    def counts_as_failure(self) -> bool:
        return self in {ClusterState.FAILED, ClusterState.ROLLBACK_FAILED}


class RestoreKind(StrEnum):
    """What a rollback brings one cluster back to."""

    REVISION = "revision"
    """Its last good revision, written with the rollout's spec."""
    ORIGINAL = "original"
    """The configuration arcwave found before its first write there."""
    REMOVAL = "removal"
    """Nothing: arcwave created the configuration, so it is deleted."""
