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

from typing import Annotated

from shared.revision import CommitSha
from shared.webhooks.body import OptionalStrings, PayloadModel, Strings, first_name, validate
from shared.webhooks.git_delivery import DeliveryIds, Events, GitProvider, JsonObject, PushBody
from shared.webhooks.refs import (
    BRANCH_DELETED,
    NOT_A_BRANCH,
    TAG_PUSH,
    ZERO_SHA,
    BranchMove,
    RefUpdate,
    branch_ref,
)
from shared.webhooks.results import not_a_push
from shared.webhooks.signatures import hmac_signature
from shared.webhooks.times import commit_times, dig, listed

PROVIDER = "bitbucket"
WHAT = "Bitbucket push payload"
SIGNATURE_HEADER = "X-Hub-Signature"
CLOUD_HOST = "https://bitbucket.org/"
DATA_CENTER_PUSH = "repo:refs_changed"
DATA_CENTER_IGNORED = f"{not_a_push(DATA_CENTER_PUSH)} (Bitbucket Data Center is not supported)"


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


_Actor = Annotated[Strings, OptionalStrings("_Actor", "display_name", "nickname")]


class _PushPayload(PayloadModel):
    actor: _Actor | None = None
    repository: _Repository
    push: _Push


def _read_push(data: JsonObject) -> PushBody:
    payload = validate(WHAT, _PushPayload, data)
    changes = payload.push.changes
    pusher = first_name(payload.actor)
    updates = [_ref_update(change) for change in changes]
    branches = [_branch_moved(change) for change in changes]
    heads = [
        {"id": dig(c, "new", "target", "hash"), "date": dig(c, "new", "target", "date")}
        for c in listed(dig(data, "push", "changes"))
    ]
    times = commit_times(heads, time_key="date")
    return PushBody(
        _urls(payload.repository), updates, pusher, branches=branches, commit_times=times
    )


def _urls(repo: _Repository) -> list[str | None]:
    links = repo.links or _Links()
    html = links.html.href if links.html else None
    clone = [link.href for link in links.clone or []]
    from_name = CLOUD_HOST + repo.full_name if repo.full_name and not html else None
    return [*clone, html, from_name]


def _ref_update(change: _Change) -> RefUpdate:
    ref = change.new or change.old
    if ref is None:
        return RefUpdate("", ZERO_SHA, ZERO_SHA)
    before = change.old.target.hash if change.old else ZERO_SHA
    after = change.new.target.hash if change.new else ZERO_SHA
    return RefUpdate(branch_ref(ref.name, tag=ref.type == "tag"), before, after)


def _branch_moved(change: _Change) -> BranchMove | str:
    """Bitbucket names the ref's type; a null `new` is a deletion."""
    new = change.new
    if new is None:
        old_type = change.old.type if change.old else ""
        return TAG_PUSH if old_type == "tag" else BRANCH_DELETED
    if new.type != "branch":
        return TAG_PUSH if new.type == "tag" else NOT_A_BRANCH
    previous = change.old.target.hash if change.old else None
    return BranchMove(new.name, new.target.hash, previous)


BITBUCKET = GitProvider(
    name=PROVIDER,
    what=WHAT,
    authenticate=hmac_signature(SIGNATURE_HEADER),
    events=Events(
        "repo:push",
        headers=("X-Event-Key",),
        pings=("diagnostics:ping",),
        ignored={DATA_CENTER_PUSH: DATA_CENTER_IGNORED},
    ),
    ids=DeliveryIds(headers=("X-Request-UUID",)),
    read_push=_read_push,
    repository_loc="repository.links.html.href",
    ref_list="ref changes",
)
