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

import re
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
    target_commit: str,
    flux: FluxStatus | None,
    connectivity: Connectivity | None,
    since: datetime | None = None,
) -> Health:
    """Judge one cluster for `target_commit`: a full, lower-case sha for Git tracks, an OCI
    reference (`tag@sha256:…`) for OCI tracks. `since` is when arcwave last wrote the
    configuration: a source failure Flux reported before then is about the old one."""
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
    if flux is not None and _fresh(flux, since):
        unauthenticated = _source_authentication_failure(flux)
        if unauthenticated is not None:
            return Health(
                state=HealthState.FAILED,
                reason=Reason.SOURCE_AUTHENTICATION_FAILED,
                message=f"Flux could not authenticate to the source{_describe(unauthenticated)}; "
                "check the track's source.auth",
            )
    if connectivity is not None and connectivity.is_offline:
        return offline(connectivity)
    return Health(
        state=HealthState.PROGRESSING,
        reason=Reason.PROGRESSING,
        message=_progress_message(target_commit, flux),
    )


OFFLINE_REASONS = {
    Connectivity.OFFLINE: (Reason.CLUSTER_OFFLINE, "Arc agent is Offline"),
    Connectivity.EXPIRED: (
        Reason.CLUSTER_EXPIRED,
        "Arc agent is Expired: it has not reported for too long; re-onboard the cluster",
    ),
    Connectivity.AGENT_NOT_INSTALLED: (
        Reason.AGENT_NOT_INSTALLED,
        "Arc agents are not installed on the cluster (AgentNotInstalled)",
    ),
}


def offline(connectivity: Connectivity) -> Health:
    """The health of a cluster that is not reachable, with the reason for its kind."""
    reason, message = OFFLINE_REASONS.get(
        connectivity, (Reason.CLUSTER_OFFLINE, f"Arc agent is {connectivity.value}")
    )
    return Health(state=HealthState.OFFLINE, reason=reason, message=message)


_SOURCE_KINDS = {"gitrepository", "ocirepository", "bucket", "azureblob"}
_AUTH_FAILURE = re.compile(
    r"authentication required|unable to authenticate|401 unauthorized|403 forbidden|"
    r"permission denied|could not read username|invalid credentials",
    re.IGNORECASE,
)


def _fresh(flux: FluxStatus, since: datetime | None) -> bool:
    """Whether Flux's status was reported after `since` (always, when unknown)."""
    if since is None or flux.status_updated_at is None:
        return since is None
    return flux.status_updated_at >= since


def _source_authentication_failure(flux: FluxStatus) -> ObjectStatus | None:
    """The source object Flux could not fetch for want of credentials, if any."""
    for status in flux.statuses:
        if (status.kind or "").lower() not in _SOURCE_KINDS:
            continue
        for condition in status.status_conditions or []:
            if condition.status != "False":
                continue
            if condition.reason == "AuthenticationFailed" or _AUTH_FAILURE.search(
                condition.message or ""
            ):
                return status
    return None


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
        at = flux.synced_commit or flux.source_synced_commit_id
        return f"Flux is at {short_revision(at)}, waiting for {short}"
    state = flux.compliance_state or "Unknown"
    return f"{state} at {short}, waiting for Compliant"


def _trim(text: str | None, limit: int = 200) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
