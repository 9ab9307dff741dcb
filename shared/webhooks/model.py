"""What a Git webhook delivery means to arcwave, and the ways a delivery can be refused.

A verified delivery becomes one of:

- `Ping`: the provider checking that the hook works (GitHub `ping`, Bitbucket `diagnostics:ping`);
- `Ignored(reason)`: a real event that moves no branch a track can follow (a tag push, a branch
  deletion, an issue comment); `reason` is short and stable, for the `{"ignored": ...}` answer;
- `Push`: one branch moved to a new commit;
- `Pushes`: several branches moved in one delivery (Azure DevOps `refUpdates`, Bitbucket
  `push.changes`); each has its own `Push`, all sharing the delivery id.

Refusals are exceptions: `SignatureError` (answer 401 with no detail), `PayloadError` (400 with
the problems), `WebhookConfigError` (no secret configured: the operator's mistake, 500-class
but never leaking which secret), `UnknownProvider` (404).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from shared.problems import InvalidInput, Problem
from shared.revision import Revision
from shared.webhooks.urls import RepoUrlError, normalise_repo_url

ZERO_SHA = "0" * 40

TAG_PUSH = "tag push"
BRANCH_DELETED = "branch deleted"
NOT_A_BRANCH = "not a branch ref"


def not_a_push(event: str) -> str:
    """The ignore reason for an event type that is not a push: `event 'issues' is not a push`."""
    shown = event if len(event) <= 64 else event[:61] + "..."
    return f"event '{shown}' is not a push"


class WebhookError(Exception):
    """Base of every refusal raised by the webhook layer."""


class SignatureError(WebhookError):
    """The delivery is not signed (or authenticated) with a configured secret.

    The message names the header that failed, never a secret or a digest; callers answer 401
    without the message and may log it.
    """


class WebhookConfigError(WebhookError):
    """No usable secret is configured for the provider, so nothing can be verified."""


class UnknownProvider(WebhookError):
    """The provider name is not one arcwave reads."""


class PayloadError(WebhookError, InvalidInput):
    """The verified body or its headers are malformed; `problems` says where and why."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        InvalidInput.__init__(self, what, problems)


@dataclass(frozen=True, slots=True)
class Ping:
    """The provider testing the hook; answer 200 and do nothing."""

    provider: str = ""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A verified event that starts nothing, with a short machine-friendly reason."""

    reason: str
    provider: str = ""


@dataclass(frozen=True, slots=True)
class Push:
    """One branch of one repository moved to `commit`.

    `repository_urls` holds every URL the payload gives for the repository (https clone, ssh,
    web page), as sent. `changed_paths` is the set of files the pushed commits touched, or None
    when the payload does not list them all (then path filters must let the push through).
    `delivery_id` is the id to dedupe on (see docs/webhooks.md for where each provider's comes
    from); `request_id` is the provider's id for this HTTP request, for logs.
    """

    provider: str
    delivery_id: str
    repository_urls: tuple[str, ...]
    branch: str
    commit: str
    changed_paths: frozenset[str] | None
    pusher: str | None
    previous_commit: str | None
    request_id: str | None = None

    @property
    def revision(self) -> Revision:
        """The pushed commit on its branch."""
        return Revision(commit=self.commit, branch=self.branch)

    @property
    def repository_keys(self) -> frozenset[str]:
        """The canonical `host/path` keys of the repository URLs that can be normalised."""
        return repository_keys(self.repository_urls)

    @property
    def content_id(self) -> str:
        """An id derived only from the signed body: provider, repository, branch, before..after."""
        return derived_delivery_id(
            self.provider,
            self.repository_urls,
            [(f"refs/heads/{self.branch}", self.previous_commit or ZERO_SHA, self.commit)],
        )


@dataclass(frozen=True, slots=True)
class Pushes:
    """Several branches moved in one delivery; dedupe once on `delivery_id`, then handle each."""

    provider: str
    delivery_id: str
    pushes: tuple[Push, ...]


WebhookResult = Ping | Ignored | Push | Pushes


def pushes_in(result: WebhookResult) -> tuple[Push, ...]:
    """Every `Push` a result carries: none for `Ping`/`Ignored`, one or more otherwise."""
    if isinstance(result, Push):
        return (result,)
    if isinstance(result, Pushes):
        return result.pushes
    return ()


def repository_keys(urls: Iterable[str]) -> frozenset[str]:
    """The canonical keys of `urls`, skipping any that are not repository URLs."""
    keys = set()
    for url in urls:
        try:
            keys.add(normalise_repo_url(url))
        except RepoUrlError:
            continue
    return frozenset(keys)


def derived_delivery_id(
    provider: str, repository_urls: Iterable[str], ref_moves: Iterable[tuple[str, str, str]]
) -> str:
    """A stable id for a delivery from what its signed body says: the same push gives the same id.

    `ref_moves` are `(ref, before, after)` triples. The repository is identified by the sorted
    canonical keys of its URLs (raw lower-cased URLs when none normalise), so the id does not
    depend on the order the payload lists URLs in.
    """
    urls = list(repository_urls)
    keys = sorted(repository_keys(urls)) or sorted({u.strip().lower() for u in urls})
    lines = [
        provider,
        *keys,
        "--",
        *(f"{ref} {before}..{after}" for ref, before, after in ref_moves),
    ]
    digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{provider}-{digest[:40]}"
