"""The health of one cluster for one target revision, from what ARM / Resource Graph report.

- **Healthy**: `sourceSyncedCommitId` names the target commit (`branch/sha` or
  `branch@sha1:sha`), `complianceState` is `Compliant` and every status entry is compliant.
- **Failed**: `Non-Compliant` at the target commit, or provisioning `Failed`.
- **Offline**: the connected cluster is `Offline` or `Expired` and Flux has said nothing
  conclusive about the target commit. A verdict Flux reported at the target commit before the
  cluster went away stands: it is evidence, and it is about this revision.
- Otherwise **Progressing**. Passing the progress deadline is the wave's call, not this module's.

Flux events only wake the watcher early; the verdict always comes from this assessment.
"""

from datetime import datetime

from pydantic import ConfigDict, Field

from shared.cluster import Connectivity
from shared.reasons import Reason
from shared.revision import Revision, RevisionError, revision_matches, short_revision
from shared.states import HealthState
from shared.wire import WireModel

COMPLIANT = "Compliant"
NON_COMPLIANT = "Non-Compliant"


class StatusCondition(WireModel):
    """A Kubernetes condition of one Flux object, as Azure copies it into `statuses`."""

    model_config = ConfigDict(extra="ignore")

    type: str | None = None
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    last_transition_time: datetime | None = None


class ObjectStatus(WireModel):
    """One Flux object (GitRepository, Kustomization, HelmRelease) reported by the extension."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    namespace: str | None = None
    kind: str | None = None
    compliance_state: str | None = None
    status_conditions: list[StatusCondition] | None = None


class FluxStatus(WireModel):
    """The read-only part of a fluxConfiguration that tells how Flux is doing."""

    model_config = ConfigDict(extra="ignore")

    compliance_state: str | None = None
    source_synced_commit_id: str | None = None
    provisioning_state: str | None = None
    statuses: list[ObjectStatus] = Field(default_factory=list)
    status_updated_at: datetime | None = None
    error_message: str | None = None

    @property
    def synced_commit(self) -> str | None:
        """The commit Flux last fetched, whatever the spelling; None when unknown."""
        text = self.source_synced_commit_id
        if not text:
            return None
        try:
            return Revision.parse(text).commit
        except RevisionError:
            return None


class Health(WireModel):
    """A verdict with the reason and a one-line message an operator can act on."""

    state: HealthState
    reason: Reason
    message: str


def assess(
    target_commit: str, flux: FluxStatus | None, connectivity: Connectivity | None
) -> Health:
    """Judge one cluster for `target_commit`: a full, lower-case sha for Git tracks, an OCI
    reference (`tag@sha256:…`) for OCI tracks."""
    short = short_revision(target_commit)
    if flux is not None:
        if (flux.provisioning_state or "").lower() == "failed":
            detail = f": {_trim(flux.error_message)}" if flux.error_message else ""
            return Health(
                state=HealthState.FAILED,
                reason=Reason.PROVISIONING_FAILED,
                message=f"fluxConfiguration provisioning failed{detail}",
            )
        if revision_matches(target_commit, flux.source_synced_commit_id):
            failing = _first_failing(flux)
            if flux.compliance_state == NON_COMPLIANT or failing is not None:
                return Health(
                    state=HealthState.FAILED,
                    reason=Reason.HEALTH_CHECK_FAILED,
                    message=f"Non-Compliant at {short}{_describe(failing)}",
                )
            if flux.compliance_state == COMPLIANT and _all_compliant(flux):
                return Health(
                    state=HealthState.HEALTHY,
                    reason=Reason.RECONCILED,
                    message=f"Compliant at {short}",
                )
    if connectivity is not None and connectivity.is_offline:
        return Health(
            state=HealthState.OFFLINE,
            reason=Reason.CLUSTER_OFFLINE,
            message=f"Arc agent is {connectivity.value}",
        )
    return Health(
        state=HealthState.PROGRESSING,
        reason=Reason.PROGRESSING,
        message=_progress_message(target_commit, flux),
    )


def _all_compliant(flux: FluxStatus) -> bool:
    return all(s.compliance_state in (COMPLIANT, None) for s in flux.statuses)


def _first_failing(flux: FluxStatus) -> ObjectStatus | None:
    for status in flux.statuses:
        if status.compliance_state == NON_COMPLIANT:
            return status
    return None


def _describe(status: ObjectStatus | None) -> str:
    if status is None:
        return ""
    what = f"{status.kind or 'object'} '{status.name}'" if status.name else status.kind or "object"
    for condition in status.status_conditions or []:
        if condition.status == "False" and (condition.reason or condition.message):
            text = ": ".join(p for p in (condition.reason, _trim(condition.message)) if p)
            return f": {what} {text}"
    return f": {what}"


def _progress_message(target_commit: str, flux: FluxStatus | None) -> str:
    short = short_revision(target_commit)
    if flux is None:
        return f"waiting for the fluxConfiguration pinned to {short}"
    if not flux.source_synced_commit_id or (
        flux.synced_commit is None and "sha256:" not in flux.source_synced_commit_id
    ):
        return f"waiting for Flux to fetch {short}"
    if not revision_matches(target_commit, flux.source_synced_commit_id):
        at = flux.synced_commit[:7] if flux.synced_commit else flux.source_synced_commit_id
        return f"Flux is at {short_revision(at)}, waiting for {short}"
    state = flux.compliance_state or "Unknown"
    return f"{state} at {short}, waiting for Compliant"


def _trim(text: str | None, limit: int = 200) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
