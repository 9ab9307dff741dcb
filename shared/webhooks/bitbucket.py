"""Bitbucket Cloud `repo:push` webhooks (https://support.atlassian.com/bitbucket-cloud/).

- Signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, sent when the
  webhook has a secret.
- Events (`X-Event-Key`): `repo:push` is read; `diagnostics:ping` (a "Test connection") → `Ping`;
  anything else is ignored. Bitbucket Data Center's `repo:refs_changed` is a different payload
  and is ignored as not a Bitbucket Cloud push.
- One push can move several refs (`push.changes`): each branch update becomes a `Push` (several
  give `Pushes`); tags, branch deletions (`new` is null) and other ref types are ignored.
- Delivery id: derived from the signed body. Bitbucket documents `X-Request-UUID` as the
  request's id but not that automatic retries or a "Resend request" keep it, and `X-Hook-UUID`
  names the webhook, not the event; a resend carries the original body, so the derived id
  dedupes it. `X-Request-UUID` is kept as `request_id` for logs.
- Changed files: never listed (`changed_paths` is None).
"""

from shared.revision import CommitSha
from shared.webhooks.common import (
    Headers,
    PayloadModel,
    Secrets,
    event_header,
    load_json_object,
    request_header,
    require_urls,
    secret_list,
    unique,
    validate,
    verify_hmac,
)
from shared.webhooks.model import (
    BRANCH_DELETED,
    NOT_A_BRANCH,
    TAG_PUSH,
    ZERO_SHA,
    Ignored,
    Ping,
    Push,
    Pushes,
    WebhookResult,
    derived_delivery_id,
    not_a_push,
)

PROVIDER = "bitbucket"
WHAT = "Bitbucket push payload"
SIGNATURE_HEADER = "X-Hub-Signature"
CLOUD_HOST = "https://bitbucket.org/"


class _Target(PayloadModel):
    hash: CommitSha


class _Ref(PayloadModel):
    type: str
    name: str
    target: _Target


class _Change(PayloadModel):
    new: _Ref | None = None
    old: _Ref | None = None
    created: bool = False
    closed: bool = False
    forced: bool = False


class _Push(PayloadModel):
    changes: list[_Change]


class _Link(PayloadModel):
    href: str | None = None


class _Links(PayloadModel):
    html: _Link | None = None
    clone: list[_Link] | None = None


class _Repository(PayloadModel):
    full_name: str | None = None
    links: _Links | None = None


class _Actor(PayloadModel):
    display_name: str | None = None
    nickname: str | None = None


class _PushPayload(PayloadModel):
    actor: _Actor | None = None
    repository: _Repository
    push: _Push


def parse(headers: Headers, body: bytes, secrets: Secrets) -> WebhookResult:
    """Verify and read one Bitbucket Cloud delivery."""
    keys = secret_list(PROVIDER, secrets)
    verify_hmac(body, keys, SIGNATURE_HEADER, headers.value(SIGNATURE_HEADER), prefix="sha256=")
    event = event_header(WHAT, headers, "X-Event-Key")
    request_id = request_header(headers, "X-Request-UUID")
    data = load_json_object(WHAT, headers, body)
    if event == "diagnostics:ping":
        return Ping(PROVIDER)
    if event == "repo:refs_changed":
        return Ignored(f"{not_a_push(event)} (Bitbucket Data Center is not supported)", PROVIDER)
    if event != "repo:push":
        return Ignored(not_a_push(event), PROVIDER)
    payload = validate(WHAT, _PushPayload, data)
    urls = require_urls(WHAT, _urls(payload.repository), "repository.links.html.href")
    moves = [_move(change) for change in payload.push.changes]
    delivery = derived_delivery_id(PROVIDER, urls, moves)
    actor = payload.actor
    pusher = (actor.display_name or actor.nickname) if actor else None
    pushes: list[Push] = []
    ignored: list[str] = []
    for change in payload.push.changes:
        new = change.new
        if new is None:
            old_type = change.old.type if change.old else ""
            ignored.append(TAG_PUSH if old_type == "tag" else BRANCH_DELETED)
        elif new.type != "branch":
            ignored.append(TAG_PUSH if new.type == "tag" else NOT_A_BRANCH)
        else:
            pushes.append(
                Push(
                    provider=PROVIDER,
                    delivery_id=delivery,
                    repository_urls=urls,
                    branch=new.name,
                    commit=new.target.hash,
                    changed_paths=None,
                    pusher=pusher,
                    previous_commit=change.old.target.hash if change.old else None,
                    request_id=request_id,
                )
            )
    if len(pushes) == 1:
        return pushes[0]
    if pushes:
        return Pushes(PROVIDER, delivery, tuple(pushes))
    return Ignored(ignored[0] if ignored else "no ref changes", PROVIDER)


def _urls(repo: _Repository) -> tuple[str, ...]:
    links = repo.links or _Links()
    html = links.html.href if links.html else None
    clone = [link.href for link in links.clone or []]
    from_name = CLOUD_HOST + repo.full_name if repo.full_name and not html else None
    return unique([*clone, html, from_name])


def _move(change: _Change) -> tuple[str, str, str]:
    ref = change.new or change.old
    if ref is None:
        return ("", ZERO_SHA, ZERO_SHA)
    prefix = "refs/tags/" if ref.type == "tag" else "refs/heads/"
    before = change.old.target.hash if change.old else ZERO_SHA
    after = change.new.target.hash if change.new else ZERO_SHA
    return (prefix + ref.name, before, after)
