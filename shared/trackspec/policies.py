"""What a rollout does when things do not go to plan: a failed wave, an offline cluster, a newer
revision, a configuration changed outside arcwave."""

from enum import StrEnum


class OnFailure(StrEnum):
    """What a rollout does when a wave breaks its failure budget."""

    ROLLBACK = "rollback"
    """Restore the last good revision on every cluster this rollout changed."""
    HALT = "halt"
    """Stop and leave clusters as they are for an operator to look at."""


class OfflinePolicy(StrEnum):
    """What a wave does with a cluster whose Arc agent is Offline or Expired."""

    SKIP = "skip"
    """Record it as Skipped (not a failure); catch-up brings it along when it returns."""
    FAIL = "fail"
    """Count it against the wave's failure budget."""
    WAIT = "wait"
    """Wait for it until the progress deadline."""


class SupersedePolicy(StrEnum):
    """What a track does with a new revision while a rollout is running."""

    QUEUE = "queue"
    """Finish the running rollout, then roll the newest queued revision."""
    RESTART = "restart"
    """Stop the running rollout at its next safe point and start the newest revision."""


class DriftPolicy(StrEnum):
    """What arcwave does when a cluster's configuration was changed outside arcwave."""

    REPORT = "report"
    """Record it on the cluster and publish `arcwave.cluster.drifted`."""
    REVERT = "revert"
    """Report it, then write the desired revision back."""
