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

from typing import Annotated

from shared.revision import CommitSha
from shared.webhooks.body import OptionalStrings, PayloadModel, Strings, validate
from shared.webhooks.commits import CommitFiles, counted_changes
from shared.webhooks.git_delivery import DeliveryIds, Events, GitProvider, JsonObject, PushBody
from shared.webhooks.refs import TAG_PUSH, RefUpdate
from shared.webhooks.signatures import shared_token
from shared.webhooks.times import commit_times, dig

PROVIDER = "gitlab"
WHAT = "GitLab push payload"
TOKEN_HEADER = "X-Gitlab-Token"
EVENT_UUID_HEADER = "X-Gitlab-Event-UUID"
PUSH_HOOK = "Push Hook"
TAG_PUSH_HOOK = "Tag Push Hook"
SYSTEM_HOOK_KINDS = {"push": PUSH_HOOK, "tag_push": TAG_PUSH_HOOK}
"""A System Hook's `object_kind`, as the project hook event that sends the same payload."""


CLONE_URLS = ("git_http_url", "git_ssh_url")
"""The clone URLs GitLab gives for both the project and the older `repository` object."""

_Project = Annotated[
    Strings, OptionalStrings("_Project", *CLONE_URLS, "http_url", "ssh_url", "web_url")
]
_Repository = Annotated[Strings, OptionalStrings("_Repository", *CLONE_URLS, "homepage")]


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


def _system_hook_event(event: str, data: JsonObject) -> str:
    """A System Hook is read as the project hook event its `object_kind` stands for."""
    if event != "System Hook":
        return event
    kind = validate(WHAT, _Kind, data).object_kind
    return SYSTEM_HOOK_KINDS.get(kind or "", event)


def _read_push(data: JsonObject) -> PushBody:
    payload = validate(WHAT, _PushPayload, data)
    urls = [*(payload.project or ()), *(payload.repository or ())]
    update = RefUpdate(payload.ref, payload.before, payload.after)
    changed = counted_changes(payload.before, payload.commits, payload.total_commits_count)
    pusher = payload.user_username or payload.user_name
    times = commit_times(dig(data, "commits"))
    return PushBody(urls, [update], pusher, changed, commit_times=times)


GITLAB = GitProvider(
    name=PROVIDER,
    what=WHAT,
    authenticate=shared_token(TOKEN_HEADER),
    events=Events(
        PUSH_HOOK,
        headers=("X-Gitlab-Event",),
        in_body=_system_hook_event,
        ignored={TAG_PUSH_HOOK: TAG_PUSH},
    ),
    ids=DeliveryIds(headers=(EVENT_UUID_HEADER, "Idempotency-Key")),
    read_push=_read_push,
    repository_loc="project",
)
