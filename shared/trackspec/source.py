"""Where a track's manifests come from: a Git repository and branch or an OCI repository, how
Flux authenticates to it, and which registry pushes start a rollout of an OCI track."""

import re

from pydantic import Field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.sourceauth import SourceAuth, SourceProvider
from shared.trackspec.rules import error, raise_if
from shared.wire import WireModel

_GIT_URL = re.compile(r"(https?|ssh)://[^\s/]+/\S+|[\w.-]+@[\w.-]+:\S+")
_OCI_URL = re.compile(r"oci://[\w.-]+(:\d+)?/[\w./-]+")


class Source(WireModel):
    """Where the track's manifests come from: a Git repository and branch, or an OCI
    repository (`oci://registry/repository`) whose revisions are tags and digests."""

    url: str
    branch: str | None = Field(default=None, min_length=1)
    """The branch a Git source follows (required for Git; not for OCI)."""
    paths: list[str] = Field(default_factory=list)
    """Globs of changed files that start a rollout; empty means any change."""
    auth: SourceAuth | None = None
    """How Flux authenticates to a private source (shared/sourceauth.py)."""

    @field_validator("url")
    @classmethod
    def _source_url(cls, value: str) -> str:
        if not (_GIT_URL.fullmatch(value.strip()) or _OCI_URL.fullmatch(value.strip())):
            raise PydanticCustomError(
                "url",
                "'{value}' is not a Git or OCI URL: use https://host/org/repo, "
                "ssh://git@host/org/repo, git@host:org/repo or oci://registry/repository",
                {"value": value},
            )
        return value.strip()

    @model_validator(mode="after")
    def _branch_for_git_only(self) -> "Source":
        if self.is_oci and self.branch is not None:
            raise_if(
                [
                    error(
                        "oci_branch",
                        ("branch",),
                        self.branch,
                        "an OCI source has no branch; its revisions are tags and digests",
                    )
                ],
                "Source",
            )
        if not self.is_oci and self.branch is None:
            raise_if(
                [error("branch", ("branch",), None, "a Git source needs the branch it follows")],
                "Source",
            )
        raise_if(_auth_problems(self), "Source")
        return self

    @property
    def is_ssh(self) -> bool:
        return self.url.startswith("ssh://") or bool(re.match(r"[\w.-]+@[\w.-]+:", self.url))

    @property
    def is_oci(self) -> bool:
        return self.url.startswith("oci://")

    @property
    def oci_repository(self) -> tuple[str, str] | None:
        """`(registry, repository)` of an OCI source."""
        if not self.is_oci:
            return None
        registry, _, repository = self.url.removeprefix("oci://").partition("/")
        return registry, repository

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith("refs/") or " " in value or value.endswith("/"):
            raise PydanticCustomError(
                "branch",
                "'{value}' is not a branch name: give it as 'main', not 'refs/heads/main'",
                {"value": value},
            )
        return value

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.strip():
                raise PydanticCustomError("path", "path globs cannot be empty")
        return value


class OciTrigger(WireModel):
    """Container registry pushes that start a rollout of an OCI track: the registry's
    `ImagePushed`/`ChartPushed` events for this repository with a tag matching the pattern."""

    registry: str = Field(min_length=1)
    """The registry host, as in `oci://<registry>/...` (e.g. `contoso.azurecr.io`)."""
    repository: str = Field(min_length=1)
    tag_pattern: str = Field(default="*", min_length=1)
    """A glob (`v*`, `release-*`); `*` takes every tag."""


def _auth_problems(source: "Source") -> list[InitErrorDetails]:
    """Ways to authenticate that do not fit the source's URL."""
    auth = source.auth
    if auth is None:
        return []
    kind = "an OCI" if source.is_oci else ("an SSH" if source.is_ssh else "an HTTPS")
    problems = []
    if auth.ssh is not None and not source.is_ssh:
        problems.append(
            error("auth", ("auth", "ssh"), None, f"ssh needs an ssh:// or git@ URL, not {kind} one")
        )
    if auth.https is not None and (source.is_oci or source.is_ssh):
        problems.append(
            error(
                "auth", ("auth", "https"), None, f"https needs an https:// Git URL, not {kind} one"
            )
        )
    if auth.client_certificate is not None and not source.is_oci:
        problems.append(
            error(
                "auth", ("auth", "clientCertificate"), None, "clientCertificate is for OCI sources"
            )
        )
    if auth.ca_certificate is not None and source.is_ssh:
        problems.append(
            error(
                "auth",
                ("auth", "caCertificate"),
                None,
                "caCertificate is for HTTPS and OCI sources",
            )
        )
    if auth.provider is SourceProvider.GITHUB and source.is_oci:
        problems.append(
            error("auth", ("auth", "provider"), None, "provider github is for Git sources")
        )
    return problems


def oci_trigger_problems(trigger: OciTrigger | None, source: Source) -> list[InitErrorDetails]:
    if trigger is None:
        return []
    repository = source.oci_repository
    if repository is None:
        return [
            error(
                "oci_trigger",
                ("ociTrigger",),
                None,
                "ociTrigger needs an OCI source (oci://registry/repository)",
            )
        ]
    if (trigger.registry.lower(), trigger.repository) != (repository[0].lower(), repository[1]):
        return [
            error(
                "oci_trigger",
                ("ociTrigger",),
                None,
                f"ociTrigger names {trigger.registry}/{trigger.repository} but the source is "
                f"{repository[0]}/{repository[1]}",
            )
        ]
    return []
