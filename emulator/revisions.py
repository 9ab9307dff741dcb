"""What a configuration's source resolves to, given the scenario's branch heads and tags.

Git sources follow their branch head, a tag, the highest version tag (``semver``) or a pinned
commit; OCI sources a digest or a tag; buckets and blobs a stable stand-in revision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.scenario import FluxSpec, OciRevisionForm

GIT_FAILED = "GitOperationFailed"
REF_NOT_FOUND_MSG = "couldn't find remote ref '{ref}'"


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
