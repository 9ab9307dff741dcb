"""Reasons: CamelCase constants that say why a rollout, wave or cluster is in its state.

Every state arcwave records carries one reason and a one-line message, the way Flux explains
its conditions; timeline entries and published events reuse the same reason. docs/reasons.md
tells an operator what each one means and what to do about it.
"""

from enum import StrEnum


class Reason(StrEnum):
    """Why something is in its state."""

    # Rollout and wave lifecycle
    ROLLOUT_STARTED = "RolloutStarted"
    """A rollout of a new revision began."""
    PLANNED = "Planned"
    """The fleet was discovered and every cluster placed in a wave."""
    WAVE_STARTED = "WaveStarted"
    """A wave began writing its clusters through its in-flight window."""
    AWAITING_APPROVAL = "AwaitingApproval"
    """A wave that needs approval waits for an operator."""
    APPROVED = "Approved"
    """An operator approved the wave."""
    APPROVAL_TIMED_OUT = "ApprovalTimedOut"
    """No approval arrived within the wave's approvalTimeout; the rollout was aborted."""
    SOAKING = "Soaking"
    """The wave is healthy and waits out its soak time before health is checked again."""
    WAVE_SUCCEEDED = "WaveSucceeded"
    """The wave stayed within its failure budget through soak."""
    ROLLOUT_SUCCEEDED = "RolloutSucceeded"
    """Every wave succeeded; the revision is the track's last good revision."""
    METRIC_GATE_PASSED = "MetricGatePassed"
    """A wave's metric gate passed: the message has the updated and baseline aggregates."""
    METRIC_GATE_SKIPPED = "MetricGateSkipped"
    """A metric gate could not judge the wave (its query failed or answered nothing under
    `onError: ignore`, or too few clusters to compare and no threshold); it did not stop it."""
    # Failures
    FAILURE_BUDGET_EXCEEDED = "FailureBudgetExceeded"
    """More clusters failed in a wave than its maxFailures allows."""
    METRIC_GATE_FAILED = "MetricGateFailed"
    """A wave's metric gate failed: its aggregate broke a threshold or the baseline
    comparison, or its query failed under `onError: fail`; the message has the numbers."""
    HEALTH_CHECK_FAILED = "HealthCheckFailed"
    """Flux reports the cluster Non-Compliant at the target commit."""
    SOURCE_AUTHENTICATION_FAILED = "SourceAuthenticationFailed"
    """Flux could not authenticate to the track's source (a private repository or registry)."""
    PROVISIONING_FAILED = "ProvisioningFailed"
    """Azure could not provision the fluxConfiguration on the cluster."""
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    """The cluster was not healthy when the progress deadline passed."""
    APPLY_FAILED = "ApplyFailed"
    """arcwave could not write the fluxConfiguration (refused or failed after retries)."""
    REGRESSED_DURING_SOAK = "RegressedDuringSoak"
    """A cluster healthy before soak was not healthy after it."""
    STEP_FAILED = "StepFailed"
    """A step of the rollout (planning, a wave's writes or reads, recording) kept failing past
    the retry horizon, or failed in a way retrying cannot fix; the message names the step and
    the error. The rollout's `onFailure` was applied to what it had changed."""
    ORCHESTRATION_LOST = "OrchestrationLost"
    """The rollout's orchestration ended (terminated, purged or failed) without recording its
    end; arcwave closed the rollout and applied its `onFailure` to what it had changed."""
    # Clusters
    REVISION_APPLIED = "RevisionApplied"
    """The pinned configuration was written; Flux has yet to report on it."""
    PROGRESSING = "Progressing"
    """Flux has not yet reported the cluster healthy at the target commit."""
    RECONCILED = "Reconciled"
    """Flux reports the cluster Compliant at the target commit."""
    CLUSTER_OFFLINE = "ClusterOffline"
    """The cluster's Arc agent is Offline."""
    CLUSTER_EXPIRED = "ClusterExpired"
    """The cluster's Arc agent has not reported for so long that its identity expired."""
    AGENT_NOT_INSTALLED = "AgentNotInstalled"
    """The connected cluster resource exists but its Arc agents are not installed."""
    SKIPPED_OFFLINE = "SkippedOffline"
    """The cluster was offline and the track's policy is `offline: skip`; catch-up follows."""
    CAUGHT_UP = "CaughtUp"
    """A cluster that missed a rollout was brought to the track's last good revision."""
    DRIFTED = "Drifted"
    """The cluster's configuration was changed outside arcwave."""
    DRIFT_RECURRING = "DriftRecurring"
    """The configuration was changed outside arcwave again after arcwave reverted it; arcwave
    stops reverting it (something keeps writing it, such as an Azure Policy remediation)."""
    FOREIGN_CONFIGURATION = "ForeignConfiguration"
    """A configuration of that name existed before arcwave's first write; arcwave took it over
    and keeps it as the cluster's restore point."""
    # Operator and policy
    PAUSED = "Paused"
    """An operator paused the rollout: the wave writing now writes nothing new (those in
    flight finish), and it holds at its next safe point."""
    RESUMED = "Resumed"
    """An operator resumed a paused rollout."""
    ABORTED = "Aborted"
    """An operator aborted the rollout; no further applies."""
    SUPERSEDED = "Superseded"
    """A newer revision replaced this rollout (supersede: restart)."""
    ALERT_FIRED = "AlertFired"
    """An Azure Monitor alert fired on a cluster the rollout wrote; the track's `alerts`
    policy paused or failed the rollout (the message names the alert rule and the cluster)."""
    ALERT_RESOLVED = "AlertResolved"
    """An alert that fired on the rollout's clusters was resolved; the rollout resumed when
    the policy says so, an alert paused it and no other alert on it still fires."""
    OUTSIDE_MAINTENANCE_WINDOW = "OutsideMaintenanceWindow"
    """A wave (or its rollback) has clusters left to write whose maintenance windows are
    closed now: it waits, and the message says when the next one opens."""
    MAINTENANCE_WINDOW_OVERRIDDEN = "MaintenanceWindowOverridden"
    """An operator overrode the rollout's maintenance windows (an emergency): from then on it
    writes clusters whatever their windows say; the timeline names who and why."""
    QUEUED = "Queued"
    """The revision waits for the running rollout of its track to end (supersede: queue)."""
    STALE = "Stale"
    """A push not newer than the newest push its track took: it starts nothing."""
    ROLLING_BACK = "RollingBack"
    """The last good revision is being restored on the clusters this rollout changed."""
    ROLLED_BACK = "RolledBack"
    """What the rollout changed was restored and verified: the last good revision, the
    configuration found before arcwave's first write, or no configuration where arcwave had
    created it."""
    ROLLBACK_FAILED = "RollbackFailed"
    """Restoring did not reach health on some clusters, or could not run at all."""
