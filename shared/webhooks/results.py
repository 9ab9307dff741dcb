"""What a verified Git webhook delivery means to arcwave.

A verified delivery becomes one of:

- `Ping`: the provider checking that the hook works (GitHub `ping`, Bitbucket `diagnostics:ping`);
- `Ignored(reason)`: a real event that moves no branch a track can follow (a tag push, a branch
  deletion, an issue comment); `reason` is short and stable, for the `{"ignored": ...}` answer;
- `Push`: one branch moved to a new commit;
- `Pushes`: several branches moved in one delivery (Azure DevOps `refUpdates`, Bitbucket
  `push.changes`); each has its own `Push`, all sharing the delivery id.

Refusals are the exceptions in `shared.webhooks.errors`.
"""

from dataclasses import dataclass
from datetime import datetime

from shared.revision import Revision
from shared.webhooks.errors import shortened
from shared.webhooks.urls import repository_keys


def not_a_push(event: str) -> str:
    """The ignore reason for an event type that is not a push: `event 'issues' is not a push`."""
    return f"event '{shortened(event, 64)}' is not a push"


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
    `delivery_id` is the id to dedupe on, derived from the signed body (docs/webhooks.md);
    `request_id` is the provider's own id for the delivery, for logs.
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
    pushed_at: datetime | None = None
    """When the push happened: the provider's push time, else its head commit's time; None
    when the payload gives neither. It places the push among its branch's pushes when the
    chain of commits cannot (`shared.ordering`)."""

    @property
    def revision(self) -> Revision:
        """The pushed commit on its branch."""
        return Revision(commit=self.commit, branch=self.branch)

    @property
    def repository_keys(self) -> frozenset[str]:
        """The canonical `host/path` keys of the repository URLs that can be normalised."""
        return repository_keys(self.repository_urls)


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
