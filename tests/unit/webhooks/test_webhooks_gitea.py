"""Gitea, Forgejo and Gogs deliveries, with the examples their docs publish."""

import json
from typing import Any

import pytest
from webhooks_support import OTHER_SECRET, SECRET, ZERO, dumps, hex_hmac, load, raw, sign_gitea

from shared.webhooks import (
    BRANCH_DELETED,
    TAG_PUSH,
    Ignored,
    PayloadError,
    Push,
    SignatureError,
    parse_webhook,
)

AFTER = "bffeb74224043ba2feb48d137756c8a9331c449a"
BEFORE = "28e1879d029cb852e4844d9c718537df08844e03"


def parse(body: bytes, headers: dict[str, str], provider: str = "gitea") -> object:
    return parse_webhook(provider, headers, body, SECRET)


def modern(**change: Any) -> dict[str, Any]:
    """The published sample with the fields newer Gitea versions add."""
    data = load("gitea-push.json")
    data["commits"][0].update(added=["clusters/a.yaml"], removed=[], modified=["README.md"])
    data["total_commits"] = 1
    data.update(change)
    return data


def test_the_published_gitea_push() -> None:
    body = raw("gitea-push.json")
    push = parse(body, sign_gitea(body))
    assert isinstance(push, Push)
    assert push.provider == "gitea"
    assert (push.branch, push.commit, push.previous_commit) == ("develop", AFTER, BEFORE)
    assert push.pusher == "gitea"
    assert push.changed_paths is None  # this sample predates per-commit file lists
    assert push.repository_keys == {"localhost/gitea/webhooks"}
    assert push.request_id == "f6266f16-1bf3-46a5-9ea4-602e06ead473"


def test_the_published_forgejo_push() -> None:
    body = raw("forgejo-push.json")
    push = parse(body, sign_gitea(body, flavour="Forgejo"), provider="forgejo")
    assert isinstance(push, Push)
    assert push.pusher == "forgejo"
    assert push.repository_keys == {"localhost/forgejo/webhooks"}


def test_the_body_secret_field_never_reaches_the_result() -> None:
    body = raw("gitea-push.json")
    secret_in_body = json.loads(body)["secret"]
    push = parse(body, sign_gitea(body))
    assert secret_in_body not in repr(push)


def test_gogs_and_github_style_headers_alone_are_enough() -> None:
    body = raw("gitea-push.json")
    digest = hex_hmac(body)
    gogs = {"X-Gogs-Event": "push", "X-Gogs-Signature": digest}
    hub = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + digest}
    assert isinstance(parse(body, gogs), Push)
    assert isinstance(parse(body, hub), Push)


def test_changed_paths_when_every_commit_is_listed() -> None:
    body = dumps(modern())
    push = parse(body, sign_gitea(body))
    assert isinstance(push, Push)
    assert push.changed_paths == frozenset({"clusters/a.yaml", "README.md"})


def test_changed_paths_unknown_when_commits_are_missing() -> None:
    body = dumps(modern(total_commits=3))
    push = parse(body, sign_gitea(body))
    assert isinstance(push, Push)
    assert push.changed_paths is None


def test_branch_creation_deletion_and_tags() -> None:
    created = dumps(modern(before=ZERO))
    deleted = dumps(modern(after=ZERO, commits=[], total_commits=0))
    tag = dumps(modern(ref="refs/tags/v1"))
    push = parse(created, sign_gitea(created))
    assert isinstance(push, Push)
    assert push.previous_commit is None
    assert push.changed_paths is None
    assert parse(deleted, sign_gitea(deleted)) == Ignored(BRANCH_DELETED, "gitea")
    assert parse(tag, sign_gitea(tag)) == Ignored(TAG_PUSH, "gitea")


@pytest.mark.parametrize("event", ["create", "delete", "issues", "pull_request"])
def test_other_events_are_ignored(event: str) -> None:
    body = raw("gitea-push.json")
    assert parse(body, sign_gitea(body, event=event)) == Ignored(
        f"event '{event}' is not a push", "gitea"
    )


def test_a_replay_with_a_new_delivery_uuid_keeps_the_delivery_id() -> None:
    body = raw("gitea-push.json")
    first = parse(body, sign_gitea(body, delivery="11111111-aaaa-4aaa-8aaa-111111111111"))
    again = parse(body, sign_gitea(body, delivery="22222222-bbbb-4bbb-8bbb-222222222222"))
    assert isinstance(first, Push)
    assert isinstance(again, Push)
    assert first.delivery_id == again.delivery_id == first.content_id
    assert first.request_id != again.request_id


def test_wrong_secret() -> None:
    body = raw("gitea-push.json")
    with pytest.raises(SignatureError):
        parse(body, sign_gitea(body, secret=OTHER_SECRET))


def test_the_first_bare_signature_header_decides() -> None:
    body = raw("forgejo-push.json")
    headers = sign_gitea(body, flavour="Forgejo")
    headers["X-Forgejo-Signature"] = hex_hmac(body, OTHER_SECRET)
    with pytest.raises(SignatureError, match="X-Forgejo-Signature"):
        parse(body, headers, provider="forgejo")


def test_missing_signature() -> None:
    body = raw("gitea-push.json")
    with pytest.raises(SignatureError, match="missing"):
        parse(body, {"X-Gitea-Event": "push"})


def test_missing_event_header() -> None:
    body = raw("gitea-push.json")
    with pytest.raises(PayloadError, match="X-Gitea-Event"):
        parse(body, {"X-Gitea-Signature": hex_hmac(body)})


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"after": "bffeb74"}, "after"),
        ({"repository": None}, "repository"),
        ({"total_commits": 1.5}, "total_commits"),
        ({"commits": "none"}, "commits"),
    ],
)
def test_malformed_fields(change: dict[str, Any], loc: str) -> None:
    body = dumps(modern(**change))
    with pytest.raises(PayloadError) as caught:
        parse(body, sign_gitea(body))
    assert loc in [p.loc for p in caught.value.problems]
