"""One Git delivery, verified and read the same way for every provider.

A provider module describes only what is its own (`GitProvider`: how it authenticates, where
it names the event and the delivery id, how its push payload reads as a `PushBody`);
`read_delivery` does the rest in one order for all:

1. authenticate over the raw body (`SignatureError`, `WebhookConfigError`) before reading it;
2. read the event type from the headers (`PayloadError` when malformed);
3. decode the body (`PayloadError`), then answer pings and ignore events that are not pushes;
4. read the push, turn each branch move into a `Push` sharing one delivery id (derived from
   the signed body; the provider's own id is only the request id, for logs), and ignore tags,
   deletions and other refs.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.webhooks.body import load_json_object
from shared.webhooks.delivery_ids import derived_delivery_id, plausible_id, request_header
from shared.webhooks.errors import payload_error
from shared.webhooks.headers import Headers, event_header
from shared.webhooks.refs import BranchMove, RefUpdate, branch_moved
from shared.webhooks.results import Ignored, Ping, Push, Pushes, WebhookResult, not_a_push
from shared.webhooks.signatures import Authenticator, Secrets, secret_keys

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PushBody:
    """What a provider's push payload says, in the terms every provider shares."""

    repository_urls: Iterable[str | None]
    """Every URL the payload gives for the repository, preferred first; blanks are skipped."""
    refs: Sequence[RefUpdate]
    """Every ref the push moved, as sent: the derived delivery id covers them all."""
    pusher: str | None = None
    changed_paths: frozenset[str] | None = None
    branches: Sequence[BranchMove | str] | None = None
    """What each ref update means, when the provider says it its own way (Bitbucket names
    ref types); by default `branch_moved` of each of `refs`."""
    event_id: str | None = None
    """The provider's id for the delivery when the body carries it (`DeliveryIds.in_body`)."""
    pushed_at: datetime | None = None
    """When the provider says the push happened, if it does (`shared.webhooks.times`)."""
    commit_times: Mapping[str, datetime] = field(default_factory=dict)
    """When pushed commits were made, by commit id: the head's time places a push whose
    provider gives no push time."""


@dataclass(frozen=True, slots=True)
class Events:
    """Which event is a push, where the event type is named, and what else a provider sends."""

    push: str
    headers: tuple[str, ...] = ()
    """Headers naming the event type (the first present); none: only `in_body` names it."""
    in_body: Callable[[str, JsonObject], str] | None = None
    """The event type read (or refined) from the body: `(header event or "", body) -> event`."""
    pings: tuple[str, ...] = ()
    ignored: Mapping[str, str] = field(default_factory=dict)
    """Events ignored with a reason of their own; other non-push events are `not_a_push`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryIds:
    """Where a provider puts its own id for a delivery. It is a hint, for logs: deliveries are
    deduplicated on an id derived from the signed body, since a header can be changed or left
    out by whoever replays a captured body."""

    headers: tuple[str, ...] = ()
    """Headers holding the provider's id for the delivery (the first present)."""
    in_body: str | None = None
    """Where the body carries it instead (`PushBody.event_id`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GitProvider:
    """What one Git provider does its own way; everything else is `read_delivery`'s."""

    name: str
    what: str
    """What its push payload is called in errors: `GitHub push payload`."""
    authenticate: Authenticator
    events: Events
    read_push: Callable[[JsonObject], PushBody]
    """Validates a push event's body and reads it (`PayloadError` naming the field)."""
    repository_loc: str
    """Where to point a `PayloadError` when a push gives no repository URL."""
    ids: DeliveryIds = DeliveryIds()
    ref_list: str | None = None
    """What the payload calls its list of ref updates when it has one (Azure DevOps, Bitbucket):
    the repository is then required before any is read, and an empty list is `no <ref_list>`."""

    def parse(self, headers: Headers, body: bytes, secrets: Secrets) -> WebhookResult:
        """Verify and read one delivery; see `read_delivery`."""
        return read_delivery(self, headers, body, secrets)


def read_delivery(
    provider: GitProvider, headers: Headers, body: bytes, secrets: Secrets
) -> WebhookResult:
    """Verify one delivery over its raw `body` and say what it means."""
    provider.authenticate(headers, body, secret_keys(provider.name, secrets))
    what, events = provider.what, provider.events
    event = event_header(what, headers, *events.headers) if events.headers else ""
    data = load_json_object(what, headers, body)
    if events.in_body is not None:
        event = events.in_body(event, data)
    if event in events.pings:
        return Ping(provider.name)
    if event != events.push:
        return Ignored(events.ignored.get(event) or not_a_push(event), provider.name)
    return _pushes(provider, headers, provider.read_push(data))


def _pushes(provider: GitProvider, headers: Headers, push: PushBody) -> WebhookResult:
    moves = push.branches if push.branches is not None else [branch_moved(r) for r in push.refs]
    branches = [move for move in moves if isinstance(move, BranchMove)]
    reasons = [move for move in moves if isinstance(move, str)]
    if not branches and provider.ref_list is None:
        return Ignored(reasons[0], provider.name)  # one ref, no branch: the repository is moot
    urls = _unique(push.repository_urls)
    if not urls:
        raise payload_error(
            provider.what, provider.repository_loc, "missing", "the payload gives no repository URL"
        )
    delivery = derived_delivery_id(provider.name, urls, push.refs, push.pushed_at)
    request_id = request_header(headers, *provider.ids.headers) or plausible_id(push.event_id)
    pushes = tuple(
        Push(
            provider=provider.name,
            delivery_id=delivery,
            repository_urls=urls,
            branch=move.branch,
            commit=move.commit,
            changed_paths=push.changed_paths,
            pusher=push.pusher,
            previous_commit=move.previous,
            request_id=request_id,
            pushed_at=push.pushed_at or push.commit_times.get(move.commit.lower()),
        )
        for move in branches
    )
    if len(pushes) == 1:
        return pushes[0]
    if pushes:
        return Pushes(provider.name, delivery, pushes)
    return Ignored(reasons[0] if reasons else f"no {provider.ref_list}", provider.name)


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty values, stripped, in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for value in values:
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return tuple(seen)
