"""Gitea, Forgejo and Gogs push webhooks (https://docs.gitea.com/usage/webhooks).

- Signature: bare hex HMAC-SHA256 of the raw body in `X-Forgejo-Signature`, `X-Gitea-Signature`
  or `X-Gogs-Signature` (the first present is checked), else `X-Hub-Signature-256:
  sha256=<hex>`. The deprecated `secret` field some versions put in the body is never read.
- Events (`X-Gitea-Event`, `X-Forgejo-Event`, `X-Gogs-Event` or `X-GitHub-Event`): `push` is
  read unless it moves a tag or deletes a branch; anything else (`create`, `delete`, ...) is
  ignored. Gitea has no ping: its "Test Delivery" sends a push of the latest commit.
- Delivery id: derived from the signed body. `X-Gitea-Delivery` (and its Forgejo, Gogs and
  GitHub twins) is new on every delivery, including a redelivery from the hook's history (Gitea
  copies the payload into a new task with a new UUID), so it cannot dedupe; it is kept as
  `request_id` for logs.
- Changed files: the union of `added`/`modified`/`removed` over `commits`, only when the payload
  says how many commits were pushed (`total_commits`) and lists them all, with file lists, and
  the push did not create the branch.
"""

from shared.revision import CommitSha
from shared.webhooks.common import (
    CommitFiles,
    Headers,
    PayloadModel,
    Secrets,
    branch_of,
    changed_files,
    event_header,
    load_json_object,
    previous,
    request_header,
    require_urls,
    secret_list,
    unique,
    validate,
    verify_hmac,
)
from shared.webhooks.model import Ignored, Push, WebhookResult, derived_delivery_id, not_a_push

PROVIDER = "gitea"
WHAT = "Gitea push payload"
BARE_SIGNATURE_HEADERS = ("X-Forgejo-Signature", "X-Gitea-Signature", "X-Gogs-Signature")
HUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADERS = ("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event", "X-GitHub-Event")
DELIVERY_HEADERS = (
    "X-Forgejo-Delivery",
    "X-Gitea-Delivery",
    "X-Gogs-Delivery",
    "X-GitHub-Delivery",
)


class _Repository(PayloadModel):
    clone_url: str | None = None
    ssh_url: str | None = None
    html_url: str | None = None


class _User(PayloadModel):
    login: str | None = None
    username: str | None = None
    full_name: str | None = None


class _PushPayload(PayloadModel):
    ref: str
    before: CommitSha
    after: CommitSha
    commits: list[CommitFiles] | None = None
    total_commits: int | None = None
    repository: _Repository
    pusher: _User | None = None
    sender: _User | None = None


def parse(headers: Headers, body: bytes, secrets: Secrets) -> WebhookResult:
    """Verify and read one Gitea, Forgejo or Gogs delivery."""
    keys = secret_list(PROVIDER, secrets)
    bare = headers.first(*BARE_SIGNATURE_HEADERS)
    if bare is not None:
        verify_hmac(body, keys, bare[0], bare[1])
    else:
        hub = headers.value(HUB_SIGNATURE_HEADER)
        header = HUB_SIGNATURE_HEADER if hub is not None else "X-Gitea-Signature"
        verify_hmac(body, keys, header, hub, prefix="sha256=")
    event = event_header(WHAT, headers, *EVENT_HEADERS)
    data = load_json_object(WHAT, headers, body)
    if event != "push":
        return Ignored(not_a_push(event), PROVIDER)
    payload = validate(WHAT, _PushPayload, data)
    branch = branch_of(payload.ref, payload.after)
    if isinstance(branch, Ignored):
        return Ignored(branch.reason, PROVIDER)
    repo = payload.repository
    urls = require_urls(WHAT, unique([repo.clone_url, repo.ssh_url, repo.html_url]), "repository")
    user = payload.pusher or payload.sender
    return Push(
        provider=PROVIDER,
        delivery_id=derived_delivery_id(
            PROVIDER, urls, [(payload.ref, payload.before, payload.after)]
        ),
        repository_urls=urls,
        branch=branch,
        commit=payload.after,
        changed_paths=_changed_paths(payload),
        pusher=(user.login or user.username or user.full_name) if user else None,
        previous_commit=previous(payload.before),
        request_id=request_header(headers, *DELIVERY_HEADERS),
    )


def _changed_paths(payload: _PushPayload) -> frozenset[str] | None:
    commits = payload.commits or []
    if previous(payload.before) is None or not commits:
        return None
    if payload.total_commits is None or payload.total_commits != len(commits):
        return None
    return changed_files(commits)
