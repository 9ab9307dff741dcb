"""Flux behaviour: each online cluster reconciles its configurations after a delay.

Transitions of a configuration's ``complianceState`` (moto-style, declared not hidden)::

    write  ──► Pending ──(delay, cluster online)──► Compliant | Non-Compliant
    suspend: true ──► Suspended
    branch head moved ──► (delay) ──► Compliant | Non-Compliant at the new head
    cluster offline ──► stays where it is; reconciles after reconnect
    private source, no accepted credential ──► Non-Compliant (AuthenticationFailed)
    private source, no accepted credential ──► Non-Compliant (AuthenticationFailed), revision kept

Progression is ``time`` (a delay drawn from ``flux.reconcileSeconds`` times the cluster's slow
factor), ``immediate`` (on the next tick) or ``manual`` (only on ``POST
/_emulator/flux/reconcile``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from emulator.arm import now_iso
from emulator.faults import failure_message
from emulator.fluxconfigurations.models import (
    COMPLIANT,
    NON_COMPLIANT,
    PENDING,
    SUSPENDED,
    FluxConfiguration,
)
from emulator.fluxconfigurations.validation import dependency_order
from emulator.scenario import FailureRule, FluxSource, FluxSpec, OciRevisionForm, SourceAccept

if TYPE_CHECKING:
    from emulator.connectedclusters.models import ConnectedCluster

GIT_SUCCEEDED = "GitOperationSucceed"
GIT_FAILED = "GitOperationFailed"
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
PROGRESSING = "Progressing"
DEPENDENCY_NOT_READY = "DependencyNotReady"
ARTIFACT_FAILED = "ArtifactFailed"
AUTHENTICATION_FAILED = "AuthenticationFailed"
SOURCE_REASONS = {GIT_FAILED, AUTHENTICATION_FAILED}
FETCHED_MSG = "'Fetched revision: {revision}'"
APPLIED_MSG = "'Applied revision: {revision}'"
PROGRESSING_MSG = "Reconciliation in progress"
DEPENDENCY_MSG = "Dependencies do not meet ready condition, retrying in 30s"
ARTIFACT_MSG = "Source artifact not found, retrying in 30s"
REF_NOT_FOUND_MSG = "couldn't find remote ref '{ref}'"
# source-controller's messages when a private source refuses the credentials it was given.
SSH_AUTH_FAILED_MSG = (
    "failed to checkout and determine revision: unable to clone '{url}': ssh: handshake "
    "failed: ssh: unable to authenticate, attempted methods [none publickey], no supported "
    "methods remain"
)
HTTPS_AUTH_FAILED_MSG = (
    "failed to checkout and determine revision: unable to clone '{url}': authentication required"
)
OCI_AUTH_FAILED_MSG = (
    "failed to get credential from 'default': GET {registry}: unexpected status code "
    "401 Unauthorized"
)
SOURCE_URL_SECTIONS = {"GitRepository": "gitRepository", "OCIRepository": "ociRepository"}
"""The source kinds whose credentials the emulator checks against ``flux.sources``."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class Revision:
    """What the source resolved to: ``ref`` (branch/tag, may be None) and ``sha``.

    For an OCI source ``sha`` is the digest (``sha256:<hex>``) and ``oci_form`` says how
    ``sourceSyncedCommitId`` spells it. ``error`` is set when the source could not be
    fetched; ``reason`` is then the source's condition reason."""

    ref: str | None
    sha: str
    error: str | None = None
    reason: str = GIT_FAILED
    oci_form: OciRevisionForm | None = None

    @property
    def synced_id(self) -> str:
        """``sourceSyncedCommitId`` as Azure reports it: ``branch/sha`` for Git; for OCI
        ``tag@sha256:<hex>`` / ``sha256:<hex>`` (form ``digest``) or ``<hex>`` (``bare``)."""
        if self.oci_form is not None:
            hex_digest = self.sha.removeprefix("sha256:")
            if self.oci_form == "bare":
                return hex_digest
            return f"{self.ref}@sha256:{hex_digest}" if self.ref else f"sha256:{hex_digest}"
        return f"{self.ref}/{self.sha}" if self.ref else self.sha

    @property
    def flux_revision(self) -> str:
        """The revision in Flux events (RFC-0005): ``branch@sha1:sha``, ``tag@sha256:hex``."""
        if self.oci_form is not None:
            digest = self.sha if self.sha.startswith("sha256:") else f"sha256:{self.sha}"
            return f"{self.ref}@{digest}" if self.ref else digest
        return f"{self.ref}@sha1:{self.sha}" if self.ref else self.sha


@dataclass(frozen=True)
class Outcome:
    cluster: ConnectedCluster
    configuration: FluxConfiguration
    revision: Revision
    failure: FailureRule | None
    failed_kustomization: str | None
    elapsed: float


def resolve_revision(
    config: FluxConfiguration, flux: FluxSpec, oci_form: OciRevisionForm = "digest"
) -> Revision:
    """The revision Flux would fetch for this spec given the scenario's branch heads and tags;
    ``oci_form`` is how an OCI revision is reported on this cluster."""
    spec = config.spec
    kind = spec.get("sourceKind", "GitRepository")
    if kind == "GitRepository":
        ref = config.repository_ref
        if ref.get("commit"):
            return Revision(ref.get("branch") or "HEAD", ref["commit"])
        if ref.get("tag"):
            return _lookup(flux.tags, ref["tag"], f"refs/tags/{ref['tag']}")
        if ref.get("semver"):
            return _semver(flux.tags, ref["semver"])
        branch = ref.get("branch") or "main"
        return _lookup(flux.branch_heads, branch, f"refs/heads/{branch}")
    section = spec.get({"Bucket": "bucket", "AzureBlob": "azureBlob"}.get(kind, "ociRepository"))
    source = section or {}
    if kind == "OCIRepository":
        ref = source.get("repositoryRef") or {}
        if ref.get("digest"):
            digest = str(ref["digest"])
            if not digest.startswith("sha256:"):
                digest = f"sha256:{digest}"
            return Revision(ref.get("tag"), digest, oci_form=oci_form)
        tag = ref.get("tag") or "latest"
        return Revision(tag, "sha256:" + _digest(64, source.get("url", ""), tag), oci_form=oci_form)
    return Revision(None, _digest(40, source.get("url", ""), str(source.get("bucketName", ""))))


def find_source(sources: list[FluxSource], url: str) -> FluxSource | None:
    """The ``flux.sources`` entry for ``url``: an exact match first, then the first glob."""
    for source in sources:
        if source.url == url:
            return source
    for source in sources:
        if fnmatchcase(url, source.url):
            return source
    return None


def source_auth_error(config: FluxConfiguration, sources: list[FluxSource]) -> str | None:
    """source-controller's message when the configuration's Git or OCI source is private and
    none of the credentials it carries is one the source accepts; None when Flux can fetch."""
    kind = source_kind(config)
    section = SOURCE_URL_SECTIONS.get(kind)
    if section is None or not sources:
        return None
    url = str((config.spec.get(section) or {}).get("url") or "")
    source = find_source(sources, url)
    if source is None or not source.private or credentials_accepted(config, source.accept):
        return None
    if kind == "OCIRepository":
        return OCI_AUTH_FAILED_MSG.format(registry=_registry(url))
    if url.startswith(("ssh://", "git@")):
        return SSH_AUTH_FAILED_MSG.format(url=url)
    return HTTPS_AUTH_FAILED_MSG.format(url=url)


def credentials_accepted(config: FluxConfiguration, accept: SourceAccept) -> bool:
    """Whether any one credential form the source accepts matches what the configuration
    carries (protected settings and certificates travel base64-encoded)."""
    spec = config.spec
    kind = source_kind(config)
    git = (spec.get("gitRepository") or {}) if kind == "GitRepository" else {}
    oci = (spec.get("ociRepository") or {}) if kind == "OCIRepository" else {}
    protected = spec.get("configurationProtectedSettings") or {}
    if (
        accept.ssh_private_key is not None
        and git.get("sshKnownHosts")
        and _decoded(protected.get("sshPrivateKey")) == accept.ssh_private_key.strip()
    ):
        return True
    if (
        accept.https_user is not None
        and accept.https_key is not None
        and git.get("httpsUser") == accept.https_user
        and _decoded(protected.get("httpsKey")) == accept.https_key.strip()
    ):
        return True
    if accept.local_auth_ref is not None and accept.local_auth_ref in {
        git.get("localAuthRef"),
        oci.get("localAuthRef"),
    }:
        return True
    if accept.provider == "Azure" and (
        str(git.get("provider") or "").lower() == "azure" or oci.get("useWorkloadIdentity") is True
    ):
        return True
    if accept.tls is not None:
        tls = oci.get("tlsConfig") or {}
        if (
            isinstance(tls, dict)
            and _decoded(tls.get("clientCertificate")) == accept.tls.client_certificate.strip()
            and _decoded(tls.get("privateKey")) == accept.tls.private_key.strip()
        ):
            return True
    return False


def _decoded(value: Any) -> str | None:
    """A base64 setting as text (surrounding whitespace ignored); None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8").strip()
    except (binascii.Error, ValueError):
        return None


def _registry(url: str) -> str:
    """``oci://contoso.azurecr.io/fleet`` -> ``https://contoso.azurecr.io/v2/`` (the registry
    endpoint the OCI client pings first)."""
    host = urlsplit(url).netloc or url.removeprefix("oci://").split("/", 1)[0]
    return f"https://{host}/v2/"


def _lookup(table: dict[str, str], name: str, ref: str) -> Revision:
    sha = table.get(name)
    if sha is None:
        return Revision(name, "", error=REF_NOT_FOUND_MSG.format(ref=ref))
    return Revision(name, sha)


def _semver(tags: dict[str, str], constraint: str) -> Revision:
    """The highest tag that parses as a version (constraints are not evaluated)."""
    versions = sorted(
        (tag for tag in tags if _version_key(tag) is not None),
        key=lambda tag: _version_key(tag) or (),
    )
    if not versions:
        return Revision(constraint, "", error=REF_NOT_FOUND_MSG.format(ref=constraint))
    return Revision(versions[-1], tags[versions[-1]])


def _version_key(tag: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in tag.lstrip("v").split("."))
    except ValueError:
        return None


def _digest(length: int, *parts: str) -> str:
    """A stable stand-in revision for sources without commits (buckets, blobs, OCI tags)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


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


def source_kind(config: FluxConfiguration) -> str:
    return str(config.spec.get("sourceKind", "GitRepository"))


def mark_pending(config: FluxConfiguration) -> None:
    """Right after a write: Flux has not looked at the new spec yet."""
    when = now_iso()
    namespace = config.spec.get("namespace", "default")
    if config.spec.get("suspend"):
        config.compliance_state = SUSPENDED
        config.status_updated_at = when
        return
    progressing = condition("Unknown", PROGRESSING, PROGRESSING_MSG, when)
    statuses = [object_status(config.name, namespace, source_kind(config), PENDING, progressing)]
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
                source_kind(config),
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
        statuses = [object_status(config.name, namespace, source_kind(config), COMPLIANT, fetched)]
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


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    cluster_key: tuple[str, str, str]
    name: str


class ReconcileQueue:
    """Due times of pending reconciles; the ticker pops what is due."""

    def __init__(self, flux: FluxSpec, clock: Clock, rng: random.Random) -> None:
        self.flux = flux
        self.clock = clock
        self.rng = rng
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._manual: dict[tuple[tuple[str, str, str], str], None] = {}

    def delay(self, slow_factor: float) -> float:
        span = self.flux.reconcile_seconds
        return self.rng.uniform(span.min, span.max) * slow_factor

    def schedule(self, cluster_key: tuple[str, str, str], name: str, slow_factor: float) -> None:
        if self.flux.progression == "manual":
            self._manual[(cluster_key, name)] = None
            return
        delay = 0.0 if self.flux.progression == "immediate" else self.delay(slow_factor)
        heapq.heappush(self._heap, _Due(self.clock() + delay, next(self._seq), cluster_key, name))

    def pop_due(self, now: float) -> list[tuple[tuple[str, str, str], str]]:
        due = []
        while self._heap and self._heap[0].due <= now:
            item = heapq.heappop(self._heap)
            due.append((item.cluster_key, item.name))
        return due

    def pop_all(self) -> list[tuple[tuple[str, str, str], str]]:
        items = [(item.cluster_key, item.name) for item in sorted(self._heap)]
        items.extend(self._manual)
        self._heap.clear()
        self._manual.clear()
        return items

    def clear(self) -> None:
        self._heap.clear()
        self._manual.clear()

    def __len__(self) -> int:
        return len(self._heap) + len(self._manual)
