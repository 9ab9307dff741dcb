"""GitLab deliveries, with the examples GitLab publishes for push and tag push events."""

from datetime import datetime

import pytest
from webhooks_support import GITLAB, SECRET, SHA_A, SHA_B, ZERO, load, raw

from shared.webhooks import BRANCH_DELETED, TAG_PUSH, Ignored, PayloadError, SignatureError

SAMPLE = raw("gitlab-push.json")
TAG_SAMPLE = raw("gitlab-tag-push.json")


def complete_push(**change: object) -> dict[str, object]:
    """The published push with every pushed commit listed."""
    data = load("gitlab-push.json")
    data["total_commits_count"] = len(data["commits"])
    data.update(change)
    return data


def test_the_published_push() -> None:
    push = GITLAB.push(SAMPLE)
    assert push.branch == "master"
    assert push.commit == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert push.previous_commit == "95790bf891e76fee5e1747ab589903a6a1f80f22"
    assert push.pusher == "jsmith"
    assert push.repository_keys == {"example.com/mike/diaspora"}
    assert "git@example.com:mike/diaspora.git" in push.repository_urls
    assert "http://example.com/mike/diaspora" in push.repository_urls


def test_a_partial_commit_list_leaves_changed_paths_unknown() -> None:
    assert GITLAB.push(SAMPLE).changed_paths is None  # lists 2 commits of total_commits_count 4


def test_a_complete_commit_list_gives_changed_paths() -> None:
    push = GITLAB.push(complete_push())
    assert push.changed_paths == frozenset({"CHANGELOG", "app/controller/application.rb"})


def test_branch_creation() -> None:
    push = GITLAB.push(complete_push(before=ZERO))
    assert push.previous_commit is None
    assert push.changed_paths is None


def test_branch_deletion() -> None:
    data = complete_push(after=ZERO, checkout_sha=None, commits=[], total_commits_count=0)
    assert GITLAB.deliver(data) == Ignored(BRANCH_DELETED, "gitlab")


def test_tag_push() -> None:
    assert GITLAB.deliver(TAG_SAMPLE, event="Tag Push Hook") == Ignored(TAG_PUSH, "gitlab")


def test_a_tag_ref_in_a_push_hook_is_still_a_tag_push() -> None:
    assert GITLAB.deliver(complete_push(ref="refs/tags/v1")) == Ignored(TAG_PUSH, "gitlab")


def test_system_hooks_are_read_by_object_kind() -> None:
    GITLAB.push(SAMPLE, event="System Hook")
    assert GITLAB.deliver(TAG_SAMPLE, event="System Hook") == Ignored(TAG_PUSH, "gitlab")


def test_the_delivery_id_comes_from_the_body_and_the_headers_name_the_request() -> None:
    push = GITLAB.push(SAMPLE, idempotency_key="key-1", event_uuid="event-1")
    again = GITLAB.push(SAMPLE, idempotency_key="key-2", event_uuid="event-2")
    bare = GITLAB.push(SAMPLE, idempotency_key=None, event_uuid=None)
    assert push.delivery_id == again.delivery_id == bare.delivery_id
    assert push.delivery_id.startswith("gitlab-")
    assert (push.request_id, bare.request_id) == ("event-1", None)


def test_a_header_that_is_not_an_id_is_left_out_of_the_logs() -> None:
    push = GITLAB.push(SAMPLE, idempotency_key="a/b?c#d", event_uuid=None)
    assert push.request_id is None


def test_the_push_time_is_the_head_commits() -> None:
    push = GITLAB.push(SAMPLE)
    data = load("gitlab-push.json")
    head = next(c for c in data["commits"] if c["id"] == data["after"])
    assert push.pushed_at == datetime.fromisoformat(head["timestamp"])


@pytest.mark.parametrize("token", ["", SECRET[:-1], SECRET + " x", SECRET.upper()])
def test_near_miss_tokens(token: str) -> None:
    with pytest.raises(SignatureError):
        GITLAB.deliver(SAMPLE, token=token)


def test_a_configured_token_with_a_trailing_newline_still_matches() -> None:
    GITLAB.push(SAMPLE, secrets=SECRET + "\n")


def test_a_body_without_project_or_repository_urls() -> None:
    data = complete_push()
    del data["project"], data["repository"]
    with pytest.raises(PayloadError, match="no repository URL"):
        GITLAB.deliver(data)


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
    with pytest.raises(PayloadError) as caught:
        GITLAB.deliver(complete_push(**change))
    assert loc in [p.loc for p in caught.value.problems]


def test_shas_are_compared_in_lower_case() -> None:
    assert GITLAB.push(complete_push(after=SHA_B.upper(), before=SHA_A)).commit == SHA_B
