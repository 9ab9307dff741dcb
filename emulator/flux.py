"""Flux behaviour: each online cluster reconciles its configurations after a delay.

Transitions of a configuration's ``complianceState`` (moto-style, declared not hidden)::

    write  ──► Pending ──(delay, cluster online)──► Compliant | Non-Compliant
    suspend: true ──► Suspended
    branch head moved ──► (delay) ──► Compliant | Non-Compliant at the new head
    cluster offline ──► stays where it is; reconciles after reconnect
    private source, no accepted credential ──► Non-Compliant (AuthenticationFailed), revision kept

Progression is ``time`` (a delay drawn from ``flux.reconcileSeconds`` times the cluster's slow
factor), ``immediate`` (on the next tick) or ``manual`` (only on ``POST
/_emulator/flux/reconcile``); :mod:`emulator.reconcile_queue` keeps the due times. What a
source resolves to is :mod:`emulator.revisions`; whether a private source lets Flux in is
:mod:`emulator.private_sources`. This module writes the verdict into the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.arm import now_iso
from emulator.faults import failure_message
from emulator.fluxconfigurations.kustomizations import dependency_order
from emulator.fluxconfigurations.models import (
    COMPLIANT,
    NON_COMPLIANT,
    PENDING,
    SUSPENDED,
    FluxConfiguration,
)
from emulator.private_sources import AUTHENTICATION_FAILED
from emulator.revisions import GIT_FAILED, Revision
from emulator.scenario import FailureRule

if TYPE_CHECKING:
    from emulator.connectedclusters.models import ConnectedCluster

GIT_SUCCEEDED = "GitOperationSucceed"
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
PROGRESSING = "Progressing"
DEPENDENCY_NOT_READY = "DependencyNotReady"
ARTIFACT_FAILED = "ArtifactFailed"
SOURCE_REASONS = {GIT_FAILED, AUTHENTICATION_FAILED}
FETCHED_MSG = "'Fetched revision: {revision}'"
APPLIED_MSG = "'Applied revision: {revision}'"
PROGRESSING_MSG = "Reconciliation in progress"
DEPENDENCY_MSG = "Dependencies do not meet ready condition, retrying in 30s"
ARTIFACT_MSG = "Source artifact not found, retrying in 30s"


@dataclass(frozen=True)
class Outcome:
    cluster: ConnectedCluster
    configuration: FluxConfiguration
    revision: Revision
    failure: FailureRule | None
    failed_kustomization: str | None
    elapsed: float


def condition(status: str, reason: str, message: str, when: str) -> dict[str, Any]:
    return {
        "lastTransitionTime": when,
        "message": message,
        "reason": reason,
        "status": status,
        "type": "Ready",
    }


def object_status(
    name: str, namespace: str, kind: str, compliance: str, cond: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "kind": kind,
        "complianceState": compliance,
        "appliedBy": None,
        "helmReleaseProperties": None,
        "statusConditions": [cond],
    }


def mark_pending(config: FluxConfiguration) -> None:
    """Right after a write: Flux has not looked at the new spec yet."""
    when = now_iso()
    namespace = config.spec.get("namespace", "default")
    if config.spec.get("suspend"):
        config.compliance_state = SUSPENDED
        config.status_updated_at = when
        return
    progressing = condition("Unknown", PROGRESSING, PROGRESSING_MSG, when)
    statuses = [object_status(config.name, namespace, config.source_kind, PENDING, progressing)]
    for name in dependency_order(config.spec.get("kustomizations") or {}):
        statuses.append(
            object_status(f"{config.name}-{name}", namespace, "Kustomization", PENDING, progressing)
        )
    config.statuses = statuses
    config.compliance_state = PENDING
    config.status_updated_at = when


def apply_outcome(outcome: Outcome) -> None:
    """Write Flux's verdict into the configuration's status."""
    config, revision, failure = outcome.configuration, outcome.revision, outcome.failure
    when = now_iso()
    namespace = config.spec.get("namespace", "default")
    kustomizations = config.spec.get("kustomizations") or {}
    source_error: tuple[str, str] | None = None
    if revision.error is not None:
        source_error = (revision.reason, revision.error)
    elif failure is not None and failure.reason in SOURCE_REASONS:
        source_error = (
            failure.reason,
            failure_message(failure, revision.synced_id, "", namespace),
        )
    if source_error is not None:
        reason, message = source_error
        statuses = [
            object_status(
                config.name,
                namespace,
                config.source_kind,
                NON_COMPLIANT,
                condition("False", reason, message, when),
            )
        ]
        for name in dependency_order(kustomizations):
            statuses.append(
                object_status(
                    f"{config.name}-{name}",
                    namespace,
                    "Kustomization",
                    NON_COMPLIANT,
                    condition("False", ARTIFACT_FAILED, ARTIFACT_MSG, when),
                )
            )
        config.statuses = statuses
        config.compliance_state = NON_COMPLIANT
        config.error_message = message
    else:
        fetched = condition(
            "True", GIT_SUCCEEDED, FETCHED_MSG.format(revision=revision.synced_id), when
        )
        statuses = [object_status(config.name, namespace, config.source_kind, COMPLIANT, fetched)]
        blocked: set[str] = set()
        any_failed = False
        for name in dependency_order(kustomizations):
            deps = kustomizations[name]["dependsOn"]
            if failure is not None and name == outcome.failed_kustomization:
                cond = condition(
                    "False",
                    failure.reason,
                    failure_message(failure, revision.synced_id, name, namespace),
                    when,
                )
                blocked.add(name)
            elif any(dep in blocked for dep in deps):
                cond = condition("False", DEPENDENCY_NOT_READY, DEPENDENCY_MSG, when)
                blocked.add(name)
            else:
                cond = condition(
                    "True",
                    RECONCILIATION_SUCCEEDED,
                    APPLIED_MSG.format(revision=revision.synced_id),
                    when,
                )
            compliance = COMPLIANT if cond["status"] == "True" else NON_COMPLIANT
            any_failed = any_failed or compliance == NON_COMPLIANT
            statuses.append(
                object_status(f"{config.name}-{name}", namespace, "Kustomization", compliance, cond)
            )
        if failure is not None and not kustomizations:
            any_failed = True
        config.statuses = statuses
        config.compliance_state = NON_COMPLIANT if any_failed else COMPLIANT
        config.error_message = None
        if config.source_synced_commit_id != revision.synced_id:
            config.source_updated_at = when
        config.source_synced_commit_id = revision.synced_id
    config.status_updated_at = when
    config.observed_generation = config.generation
    config.observed_revision = revision.sha or None


def failed_kustomization(config: FluxConfiguration, failure: FailureRule | None) -> str | None:
    """The kustomization a failure rule breaks: the named one, else the first to apply."""
    if failure is None:
        return None
    kustomizations = config.spec.get("kustomizations") or {}
    if failure.kustomization and failure.kustomization in kustomizations:
        return failure.kustomization
    order = dependency_order(kustomizations)
    return order[0] if order else None
