"""Git revisions in the three spellings Flux and Azure use.

- a bare 40-hex commit: `2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e`
- Azure's `sourceSyncedCommitId` and Flux v1 events: `main/2b7e0c1f…`
- Flux v2 events: `main@sha1:2b7e0c1f…`

Branch names may themselves hold `/` (`release/2026.11/2b7e…`), so the commit is always the
part after the last separator. Commits are kept lower-case; abbreviated shas are refused
because a pin must name exactly one commit.
"""

import re
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from shared.wire import WireModel

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
REVISION_HINT = "expected a 40-hex commit, 'branch/sha' or 'branch@sha1:sha'"


class RevisionError(ValueError):
    """Text that does not name one Git commit."""


def parse_commit(value: object) -> str:
    """A 40-hex commit, lower-cased."""
    if not isinstance(value, str) or not _SHA.fullmatch(value.strip()):
        shown = value if isinstance(value, str) else type(value).__name__
        raise RevisionError(f"'{shown}' is not a full commit sha (40 hex characters)")
    return value.strip().lower()


def _validate_commit(value: object) -> str:
    try:
        return parse_commit(value)
    except RevisionError as error:
        raise PydanticCustomError("commit", str(error)) from None


CommitSha = Annotated[str, BeforeValidator(_validate_commit)]
"""A pydantic field type for a full, lower-cased commit sha."""


def _stripped(text: object) -> str:
    """A revision as text, stripped; `RevisionError` when it is not text at all."""
    if not isinstance(text, str):
        raise RevisionError(f"revision must be text, got {type(text).__name__}")
    return text.strip()


class Revision(WireModel):
    """One commit, and the branch it was seen on when the source said so."""

    commit: CommitSha
    branch: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Revision":
        """Read any of the three spellings; raise `RevisionError` naming the accepted forms."""
        value = _stripped(text)
        if _SHA.fullmatch(value):
            return cls(commit=value.lower())
        branch, sep, sha = value.rpartition("@sha1:")
        if not sep:
            branch, sep, sha = value.rpartition("/")
        if sep and branch and _SHA.fullmatch(sha):
            return cls(commit=sha.lower(), branch=branch)
        raise RevisionError(f"'{text}' is not a revision: {REVISION_HINT}")

    @property
    def short(self) -> str:
        """The first 7 characters, as people read commits."""
        return short_revision(self.commit)

    def matches(self, other: "Revision | str") -> bool:
        """Whether `other` names the same commit (branches are not compared)."""
        theirs = other if isinstance(other, Revision) else Revision.parse(other)
        return theirs.commit == self.commit

    def __str__(self) -> str:
        return f"{self.branch}/{self.commit}" if self.branch else self.commit


OCI_HINT = (
    "expected an OCI tag ('v1.2.3'), a digest ('sha256:<64 hex>') or both ('v1.2.3@sha256:…')"
)


class OciRef(WireModel):
    """An OCI artifact reference: a tag, a digest, or a tag with the digest it resolved to.

    A rollout pins the digest when it has one: tags move, digests do not.
    """

    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> "OciRef":
        """Read `tag`, `sha256:<hex>` or `tag@sha256:<hex>`; `RevisionError` otherwise."""
        value = _stripped(text)
        tag, sep, digest = value.rpartition("@")
        if not sep:
            tag, digest = ("", value) if value.startswith("sha256:") else (value, "")
        if (tag and not _OCI_TAG.fullmatch(tag)) or (digest and not _DIGEST.fullmatch(digest)):
            raise RevisionError(f"'{text}' is not an OCI reference: {OCI_HINT}")
        if not tag and not digest:
            raise RevisionError(f"'{text}' is not an OCI reference: {OCI_HINT}")
        return cls(tag=tag or None, digest=digest or None)

    def __str__(self) -> str:
        if self.tag and self.digest:
            return f"{self.tag}@{self.digest}"
        return self.tag or self.digest or ""


def is_commit(text: str) -> bool:
    """Whether `text` is a bare 40-hex commit (a Git track's revision)."""
    return bool(_SHA.fullmatch(text))


def revision_matches(target: str, synced: str | None) -> bool:
    """Whether Flux's `sourceSyncedCommitId` names the rollout's target revision.

    Git targets are commits, whatever the spelling of `synced` (`branch/sha`,
    `branch@sha1:sha`). OCI targets compare by digest when they carry one, else by tag;
    Azure reports an OCI source's revision as `tag@sha256:…` (Flux's form), `tag/sha256:…`,
    `sha256:…` or the bare hex digest.
    """
    if not synced:
        return False
    if is_commit(target):
        try:
            return Revision.parse(synced).commit == target.lower()
        except RevisionError:
            return False
    try:
        wanted = OciRef.parse(target)
    except RevisionError:
        return False
    tag, _, digest = synced.replace("/sha256:", "@sha256:").rpartition("@")
    if not tag and not digest.startswith("sha256:"):
        tag, digest = digest, ""
    if wanted.digest and not digest and re.fullmatch(r"[0-9a-f]{64}", tag):
        return f"sha256:{tag}" == wanted.digest  # the bare hex digest
    if wanted.digest:
        return digest == wanted.digest
    return tag == wanted.tag


def short_revision(revision: str) -> str:
    """How people read a revision: 7 characters of a commit, the tag of an OCI reference,
    the start of a bare digest."""
    if is_commit(revision):
        return revision[:7]
    if "@sha256:" in revision:
        return revision.split("@", 1)[0]
    if revision.startswith("sha256:"):
        return revision[:14]
    return revision
