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

from collections.abc import Sequence
from typing import Annotated

from shared.revision import CommitSha
from shared.webhooks.body import OptionalStrings, PayloadModel, Strings, first_name, validate
from shared.webhooks.commits import CommitFiles, counted_changes
from shared.webhooks.git_delivery import DeliveryIds, Events, GitProvider, JsonObject, PushBody
from shared.webhooks.headers import Headers
from shared.webhooks.refs import RefUpdate
from shared.webhooks.signatures import verify_hmac
from shared.webhooks.times import commit_times, dig, listed

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


_Urls = Annotated[Strings, OptionalStrings("_Repository", "clone_url", "ssh_url", "html_url")]
"""The repository's URLs, in the order they are preferred."""

_User = Annotated[Strings, OptionalStrings("_User", "login", "username", "full_name")]
"""The pusher (or, from older versions, only the sender): the first name it gives."""


class _PushPayload(PayloadModel):
    ref: str
    before: CommitSha
    after: CommitSha
    commits: list[CommitFiles] | None = None
    total_commits: int | None = None
    repository: _Urls
    pusher: _User | None = None
    sender: _User | None = None


def _verify(headers: Headers, body: bytes, keys: Sequence[bytes]) -> None:
    """The first bare signature header present decides; else the GitHub-style one."""
    bare = headers.first(*BARE_SIGNATURE_HEADERS)
    if bare is not None:
        verify_hmac(body, keys, bare[0], bare[1])
        return
    hub = headers.value(HUB_SIGNATURE_HEADER)
    header = HUB_SIGNATURE_HEADER if hub is not None else "X-Gitea-Signature"
    verify_hmac(body, keys, header, hub, prefix="sha256=")


def _read_push(data: JsonObject) -> PushBody:
    payload = validate(WHAT, _PushPayload, data)
    pusher = first_name(payload.pusher or payload.sender)
    update = RefUpdate(payload.ref, payload.before, payload.after)
    changed = counted_changes(payload.before, payload.commits, payload.total_commits)
    heads = [dig(data, "head_commit"), *listed(dig(data, "commits"))]
    return PushBody(payload.repository, [update], pusher, changed, commit_times=commit_times(heads))


GITEA = GitProvider(
    name=PROVIDER,
    what=WHAT,
    authenticate=_verify,
    events=Events("push", headers=EVENT_HEADERS),
    ids=DeliveryIds(headers=DELIVERY_HEADERS),
    read_push=_read_push,
    repository_loc="repository",
)
