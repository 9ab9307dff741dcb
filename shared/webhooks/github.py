"""GitHub push webhooks (https://docs.github.com/webhooks).

- Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. The legacy
  SHA-1 `X-Hub-Signature` alone is refused: GitHub sends the SHA-256 header with every delivery
  of a hook that has a secret, so a request carrying only SHA-1 is a downgrade, not GitHub.
- Events (`X-GitHub-Event`): `ping` → `Ping`; `push` → `Push` unless it moves a tag, deletes
  a branch or updates a ref outside `refs/heads/`; anything else is ignored.
- Delivery id: `X-GitHub-Delivery`, which GitHub keeps when a delivery is redelivered.
- Changed files: the union of `added`/`modified`/`removed` over `commits`, unless the list may
  be incomplete: a new branch, a forced push, no commits listed, or 20 or more commits (GitHub
  documents caps on the list and gives no total).
"""

from shared.revision import CommitSha
from shared.webhooks.common import (
    CommitFiles,
    Headers,
    PayloadModel,
    Secrets,
    branch_of,
    changed_files,
    delivery_header,
    derived_or,
    event_header,
    load_json_object,
    previous,
    require_urls,
    secret_list,
    unique,
    validate,
    verify_hmac,
)
from shared.webhooks.model import Ignored, Ping, Push, WebhookResult, not_a_push

PROVIDER = "github"
WHAT = "GitHub push payload"
SIGNATURE_HEADER = "X-Hub-Signature-256"
COMMIT_LIST_CAP = 20


class _Repository(PayloadModel):
    clone_url: str | None = None
    ssh_url: str | None = None
    html_url: str | None = None
    git_url: str | None = None


class _Pusher(PayloadModel):
    name: str | None = None


class _Sender(PayloadModel):
    login: str | None = None


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
    repository: _Repository
    pusher: _Pusher | None = None
    sender: _Sender | None = None


def parse(headers: Headers, body: bytes, secrets: Secrets) -> WebhookResult:
    """Verify and read one GitHub delivery."""
    keys = secret_list(PROVIDER, secrets)
    verify_hmac(body, keys, SIGNATURE_HEADER, headers.value(SIGNATURE_HEADER), prefix="sha256=")
    event = event_header(WHAT, headers, "X-GitHub-Event")
    delivery = delivery_header(WHAT, headers, "X-GitHub-Delivery")
    data = load_json_object(WHAT, headers, body)
    if event == "ping":
        return Ping(PROVIDER)
    if event != "push":
        return Ignored(not_a_push(event), PROVIDER)
    payload = validate(WHAT, _PushPayload, data)
    branch = branch_of(payload.ref, payload.after, payload.deleted)
    if isinstance(branch, Ignored):
        return Ignored(branch.reason, PROVIDER)
    repo = payload.repository
    urls = require_urls(
        WHAT, unique([repo.clone_url, repo.ssh_url, repo.html_url, repo.git_url]), "repository"
    )
    pusher = payload.pusher.name if payload.pusher else None
    if not pusher and payload.sender:
        pusher = payload.sender.login
    return Push(
        provider=PROVIDER,
        delivery_id=derived_or(
            delivery, PROVIDER, urls, payload.ref, payload.before, payload.after
        ),
        repository_urls=urls,
        branch=branch,
        commit=payload.after,
        changed_paths=_changed_paths(payload),
        pusher=pusher,
        previous_commit=previous(payload.before),
        request_id=delivery,
    )


def _changed_paths(payload: _PushPayload) -> frozenset[str] | None:
    commits = payload.commits or []
    if payload.created or payload.forced or previous(payload.before) is None:
        return None
    if not commits or len(commits) >= COMMIT_LIST_CAP:
        return None
    return changed_files(commits)
