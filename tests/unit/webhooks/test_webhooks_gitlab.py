"""GitLab deliveries, with the examples GitLab publishes for push and tag push events."""

import pytest
from webhooks_support import OTHER_SECRET, SECRET, SHA_A, SHA_B, ZERO, dumps, load, raw, sign_gitlab

from shared.webhooks import (
    BRANCH_DELETED,
    TAG_PUSH,
    Ignored,
    PayloadError,
    Push,
    SignatureError,
    parse_webhook,
)


def parse(body: bytes, headers: dict[str, str], secrets: str = SECRET) -> object:
    return parse_webhook("gitlab", headers, body, secrets)


def complete_push(**change: object) -> dict[str, object]:
    """The published push with every pushed commit listed."""
    data = load("gitlab-push.json")
    data["total_commits_count"] = len(data["commits"])
    data.update(change)
    return data


def test_the_published_push() -> None:
    body = raw("gitlab-push.json")
    push = parse(body, sign_gitlab(body))
    assert isinstance(push, Push)
    assert push.branch == "master"
    assert push.commit == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert push.previous_commit == "95790bf891e76fee5e1747ab589903a6a1f80f22"
    assert push.pusher == "jsmith"
    assert push.repository_keys == {"example.com/mike/diaspora"}
    assert "git@example.com:mike/diaspora.git" in push.repository_urls
    assert "http://example.com/mike/diaspora" in push.repository_urls


def test_a_partial_commit_list_leaves_changed_paths_unknown() -> None:
    body = raw("gitlab-push.json")  # lists 2 commits of total_commits_count 4
    push = parse(body, sign_gitlab(body))
    assert isinstance(push, Push)
    assert push.changed_paths is None


def test_a_complete_commit_list_gives_changed_paths() -> None:
    body = dumps(complete_push())
    push = parse(body, sign_gitlab(body))
    assert isinstance(push, Push)
    assert push.changed_paths == frozenset({"CHANGELOG", "app/controller/application.rb"})


def test_branch_creation() -> None:
    body = dumps(complete_push(before=ZERO))
    push = parse(body, sign_gitlab(body))
    assert isinstance(push, Push)
    assert push.previous_commit is None
    assert push.changed_paths is None


def test_branch_deletion() -> None:
    body = dumps(complete_push(after=ZERO, checkout_sha=None, commits=[], total_commits_count=0))
    assert parse(body, sign_gitlab(body)) == Ignored(BRANCH_DELETED, "gitlab")


def test_tag_push() -> None:
    body = raw("gitlab-tag-push.json")
    assert parse(body, sign_gitlab(body, event="Tag Push Hook")) == Ignored(TAG_PUSH, "gitlab")


def test_a_tag_ref_in_a_push_hook_is_still_a_tag_push() -> None:
    body = dumps(complete_push(ref="refs/tags/v1"))
    assert parse(body, sign_gitlab(body)) == Ignored(TAG_PUSH, "gitlab")


def test_system_hooks_are_read_by_object_kind() -> None:
    push_body = raw("gitlab-push.json")
    tag_body = raw("gitlab-tag-push.json")
    assert isinstance(parse(push_body, sign_gitlab(push_body, event="System Hook")), Push)
    assert parse(tag_body, sign_gitlab(tag_body, event="System Hook")) == Ignored(
        TAG_PUSH, "gitlab"
    )


@pytest.mark.parametrize("event", ["Merge Request Hook", "Issue Hook", "Pipeline Hook"])
def test_other_events_are_ignored(event: str) -> None:
    body = raw("gitlab-push.json")
    assert parse(body, sign_gitlab(body, event=event)) == Ignored(
        f"event '{event}' is not a push", "gitlab"
    )


def test_delivery_id_prefers_the_idempotency_key() -> None:
    body = raw("gitlab-push.json")
    push = parse(body, sign_gitlab(body, idempotency_key="key-1", event_uuid="event-1"))
    again = parse(body, sign_gitlab(body, idempotency_key="key-1", event_uuid="event-2"))
    assert isinstance(push, Push)
    assert isinstance(again, Push)
    assert push.delivery_id == again.delivery_id == "key-1"
    assert push.request_id == "event-1"


def test_delivery_id_falls_back_to_the_event_uuid_then_the_body() -> None:
    body = raw("gitlab-push.json")
    by_event = parse(body, sign_gitlab(body, idempotency_key=None, event_uuid="event-1"))
    derived = parse(body, sign_gitlab(body, idempotency_key=None, event_uuid=None))
    assert isinstance(by_event, Push)
    assert isinstance(derived, Push)
    assert by_event.delivery_id == "event-1"
    assert derived.delivery_id == derived.content_id


def test_a_delivery_id_that_is_not_an_id_is_refused() -> None:
    body = raw("gitlab-push.json")
    with pytest.raises(PayloadError, match="not a delivery id"):
        parse(body, sign_gitlab(body, idempotency_key="a/b?c#d"))


def test_wrong_token() -> None:
    body = raw("gitlab-push.json")
    with pytest.raises(SignatureError):
        parse(body, sign_gitlab(body, token=OTHER_SECRET))


@pytest.mark.parametrize("token", ["", SECRET[:-1], SECRET + " x", SECRET.upper()])
def test_near_miss_tokens(token: str) -> None:
    body = raw("gitlab-push.json")
    with pytest.raises(SignatureError):
        parse(body, sign_gitlab(body, token=token))


def test_a_configured_token_with_a_trailing_newline_still_matches() -> None:
    body = raw("gitlab-push.json")
    assert isinstance(parse(body, sign_gitlab(body), secrets=SECRET + "\n"), Push)


def test_missing_token() -> None:
    body = raw("gitlab-push.json")
    headers = sign_gitlab(body)
    del headers["X-Gitlab-Token"]
    with pytest.raises(SignatureError, match="missing X-Gitlab-Token"):
        parse(body, headers)


def test_a_body_without_project_or_repository_urls() -> None:
    data = complete_push()
    del data["project"], data["repository"]
    body = dumps(data)
    with pytest.raises(PayloadError, match="no repository URL"):
        parse(body, sign_gitlab(body))


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"after": "da15608"}, "after"),
        ({"total_commits_count": "4"}, "total_commits_count"),
        ({"commits": [{"added": [1]}]}, "commits[0].added[0]"),
        ({"project": []}, "project"),
    ],
)
def test_malformed_fields(change: dict[str, object], loc: str) -> None:
    body = dumps(complete_push(**change))
    with pytest.raises(PayloadError) as caught:
        parse(body, sign_gitlab(body))
    assert loc in [p.loc for p in caught.value.problems]


def test_shas_are_compared_in_lower_case() -> None:
    body = dumps(complete_push(after=SHA_B.upper(), before=SHA_A))
    push = parse(body, sign_gitlab(body))
    assert isinstance(push, Push)
    assert push.commit == SHA_B
