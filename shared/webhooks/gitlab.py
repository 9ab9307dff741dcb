"""GitLab push webhooks (https://docs.gitlab.com/user/project/integrations/webhooks/).

- Token: GitLab sends the hook's secret token verbatim in `X-Gitlab-Token` (no HMAC); it is
  compared in constant time. The newer optional signing token (`webhook-signature`) is not read.
- Events (`X-Gitlab-Event`): `Push Hook` → `Push` unless it deletes a branch; `Tag Push Hook`
  is ignored as a tag push; `System Hook` is read by its `object_kind`; anything else is
  ignored. GitLab has no ping: its "Test" button sends a push of the branch's latest commits.
- Delivery id: `Idempotency-Key` (kept across retries of one delivery, GitLab 17.4+), else
  `X-Gitlab-Event-UUID`, else derived from the body.
- Changed files: the union of `added`/`modified`/`removed` over `commits`, only when the list
  holds every pushed commit (`len(commits) == total_commits_count`; GitLab lists at most 20)
  and the push neither created the branch nor listed no commits.
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
    request_header,
    require_urls,
    secret_list,
    unique,
    validate,
    verify_token,
)
from shared.webhooks.model import TAG_PUSH, Ignored, Push, WebhookResult, not_a_push

PROVIDER = "gitlab"
WHAT = "GitLab push payload"
TOKEN_HEADER = "X-Gitlab-Token"


class _Project(PayloadModel):
    git_http_url: str | None = None
    git_ssh_url: str | None = None
    http_url: str | None = None
    ssh_url: str | None = None
    web_url: str | None = None


class _Repository(PayloadModel):
    git_http_url: str | None = None
    git_ssh_url: str | None = None
    homepage: str | None = None


class _PushPayload(PayloadModel):
    object_kind: str | None = None
    ref: str
    before: CommitSha
    after: CommitSha
    user_username: str | None = None
    user_name: str | None = None
    project: _Project | None = None
    repository: _Repository | None = None
    commits: list[CommitFiles] | None = None
    total_commits_count: int | None = None


class _Kind(PayloadModel):
    object_kind: str | None = None


def parse(headers: Headers, body: bytes, secrets: Secrets) -> WebhookResult:
    """Verify and read one GitLab delivery."""
    keys = secret_list(PROVIDER, secrets)
    verify_token(keys, TOKEN_HEADER, headers.value(TOKEN_HEADER))
    event = event_header(WHAT, headers, "X-Gitlab-Event")
    delivery = delivery_header(WHAT, headers, "Idempotency-Key", "X-Gitlab-Event-UUID")
    data = load_json_object(WHAT, headers, body)
    if event == "System Hook":
        kind = validate(WHAT, _Kind, data).object_kind
        event = {"push": "Push Hook", "tag_push": "Tag Push Hook"}.get(kind or "", event)
    if event == "Tag Push Hook":
        return Ignored(TAG_PUSH, PROVIDER)
    if event != "Push Hook":
        return Ignored(not_a_push(event), PROVIDER)
    payload = validate(WHAT, _PushPayload, data)
    branch = branch_of(payload.ref, payload.after)
    if isinstance(branch, Ignored):
        return Ignored(branch.reason, PROVIDER)
    project = payload.project or _Project()
    repo = payload.repository or _Repository()
    urls = require_urls(
        WHAT,
        unique(
            [
                project.git_http_url,
                project.git_ssh_url,
                project.http_url,
                project.ssh_url,
                project.web_url,
                repo.git_http_url,
                repo.git_ssh_url,
                repo.homepage,
            ]
        ),
        "project",
    )
    return Push(
        provider=PROVIDER,
        delivery_id=derived_or(
            delivery, PROVIDER, urls, payload.ref, payload.before, payload.after
        ),
        repository_urls=urls,
        branch=branch,
        commit=payload.after,
        changed_paths=_changed_paths(payload),
        pusher=payload.user_username or payload.user_name,
        previous_commit=previous(payload.before),
        request_id=request_header(headers, "X-Gitlab-Event-UUID"),
    )


def _changed_paths(payload: _PushPayload) -> frozenset[str] | None:
    commits = payload.commits or []
    if previous(payload.before) is None or not commits:
        return None
    if payload.total_commits_count is None or payload.total_commits_count != len(commits):
        return None
    return changed_files(commits)
