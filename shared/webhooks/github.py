"""GitHub push webhooks (https://docs.github.com/webhooks).

- Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. The legacy
  SHA-1 `X-Hub-Signature` alone is refused: GitHub sends the SHA-256 header with every delivery
  of a hook that has a secret, so a request carrying only SHA-1 is a downgrade, not GitHub.
- Events (`X-GitHub-Event`): `ping` → `Ping`; `push` → `Push` unless it moves a tag, deletes
  a branch or updates a ref outside `refs/heads/`; anything else is ignored.
- Delivery id: derived from the body, which includes `repository.pushed_at` (so a new push of
  the same commits differs from a replay); `X-GitHub-Delivery` is kept for the logs.
- Changed files: the union of `added`/`modified`/`removed` over `commits`, unless the list may
  be incomplete: a new branch, a forced push, no commits listed, or 20 or more commits (GitHub
  documents caps on the list and gives no total).
"""

from typing import Annotated

from shared.revision import CommitSha
from shared.webhooks.body import OptionalStrings, PayloadModel, Strings, first_name, validate
from shared.webhooks.commits import CommitFiles, changed_files
from shared.webhooks.git_delivery import DeliveryIds, Events, GitProvider, JsonObject, PushBody
from shared.webhooks.refs import ZERO_SHA, RefUpdate, previous
from shared.webhooks.signatures import hmac_signature
from shared.webhooks.times import commit_times, dig, instant, listed

PROVIDER = "github"
WHAT = "GitHub push payload"
SIGNATURE_HEADER = "X-Hub-Signature-256"
COMMIT_LIST_CAP = 20


_Urls = Annotated[
    Strings, OptionalStrings("_Repository", "clone_url", "ssh_url", "html_url", "git_url")
]
"""The repository's URLs, in the order they are preferred."""

_Pusher = Annotated[Strings, OptionalStrings("_Pusher", "name")]
_Sender = Annotated[Strings, OptionalStrings("_Sender", "login")]


class _Commit(CommitFiles):
    id: str | None = None


class _PushPayload(PayloadModel):
    ref: str
    before: CommitSha
    after: CommitSha
    created: bool = False
    deleted: bool = False
    forced: bool = False
    commits: list[_Commit] | None = None
    repository: _Urls
    pusher: _Pusher | None = None
    sender: _Sender | None = None


def _read_push(data: JsonObject) -> PushBody:
    payload = validate(WHAT, _PushPayload, data)
    pusher = first_name([*(payload.pusher or ()), *(payload.sender or ())])
    after = ZERO_SHA if payload.deleted else payload.after  # `deleted`: the ref moved to no commit
    update = RefUpdate(payload.ref, payload.before, after)
    return PushBody(
        payload.repository,
        [update],
        pusher,
        _changed_paths(payload),
        pushed_at=instant(dig(data, "repository", "pushed_at")),
        commit_times=commit_times([dig(data, "head_commit"), *listed(dig(data, "commits"))]),
    )


def _changed_paths(payload: _PushPayload) -> frozenset[str] | None:
    commits = payload.commits or []
    if payload.created or payload.forced or previous(payload.before) is None:
        return None
    if not commits or len(commits) >= COMMIT_LIST_CAP:
        return None
    return changed_files(commits)


GITHUB = GitProvider(
    name=PROVIDER,
    what=WHAT,
    authenticate=hmac_signature(SIGNATURE_HEADER),
    events=Events("push", headers=("X-GitHub-Event",), pings=("ping",)),
    ids=DeliveryIds(headers=("X-GitHub-Delivery",)),
    read_push=_read_push,
    repository_loc="repository",
)
