"""Gitea, Forgejo and Gogs deliveries, with the examples their docs publish."""

import json
from typing import Any

import pytest
from webhooks_support import FORGEJO, GITEA, OTHER_SECRET, ZERO, hex_hmac, load, raw, sign_gitea

from shared.webhooks import BRANCH_DELETED, TAG_PUSH, Ignored, PayloadError, Push, SignatureError

AFTER = "bffeb74224043ba2feb48d137756c8a9331c449a"
BEFORE = "28e1879d029cb852e4844d9c718537df08844e03"
SAMPLE = raw("gitea-push.json")


def modern(**change: Any) -> dict[str, Any]:
    """The published sample with the fields newer Gitea versions add."""
    data = load("gitea-push.json")
    data["commits"][0].update(added=["clusters/a.yaml"], removed=[], modified=["README.md"])
    data["total_commits"] = 1
    data.update(change)
    return data


def test_the_published_gitea_push() -> None:
    push = GITEA.push(SAMPLE)
    assert push.provider == "gitea"
    assert (push.branch, push.commit, push.previous_commit) == ("develop", AFTER, BEFORE)
    assert push.pusher == "gitea"
    assert push.changed_paths is None  # this sample predates per-commit file lists
    assert push.repository_keys == {"localhost/gitea/webhooks"}
    assert push.request_id == "f6266f16-1bf3-46a5-9ea4-602e06ead473"


def test_the_published_forgejo_push() -> None:
    push = FORGEJO.push(raw("forgejo-push.json"))
    assert push.pusher == "forgejo"
    assert push.repository_keys == {"localhost/forgejo/webhooks"}


def test_the_body_secret_field_never_reaches_the_result() -> None:
    secret_in_body = json.loads(SAMPLE)["secret"]
    assert secret_in_body not in repr(GITEA.push(SAMPLE))


def test_gogs_and_github_style_headers_alone_are_enough() -> None:
    digest = hex_hmac(SAMPLE)
    gogs = {"X-Gogs-Event": "push", "X-Gogs-Signature": digest}
    hub = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + digest}
    assert isinstance(GITEA.parse(SAMPLE, gogs), Push)
    assert isinstance(GITEA.parse(SAMPLE, hub), Push)


def test_changed_paths_when_every_commit_is_listed() -> None:
    push = GITEA.push(modern())
    assert push.changed_paths == frozenset({"clusters/a.yaml", "README.md"})


def test_changed_paths_unknown_when_commits_are_missing() -> None:
    assert GITEA.push(modern(total_commits=3)).changed_paths is None


def test_branch_creation_deletion_and_tags() -> None:
    push = GITEA.push(modern(before=ZERO))
    assert push.previous_commit is None
    assert push.changed_paths is None
    deleted = modern(after=ZERO, commits=[], total_commits=0)
    assert GITEA.deliver(deleted) == Ignored(BRANCH_DELETED, "gitea")
    assert GITEA.deliver(modern(ref="refs/tags/v1")) == Ignored(TAG_PUSH, "gitea")


def test_a_replay_with_a_new_delivery_uuid_keeps_the_delivery_id() -> None:
    first = GITEA.push(SAMPLE, delivery="11111111-aaaa-4aaa-8aaa-111111111111")
    again = GITEA.push(SAMPLE, delivery="22222222-bbbb-4bbb-8bbb-222222222222")
    assert first.delivery_id == again.delivery_id
    assert first.delivery_id.startswith("gitea-")
    assert first.request_id != again.request_id


def test_the_first_bare_signature_header_decides() -> None:
    body = raw("forgejo-push.json")
    headers = sign_gitea(body, flavour="Forgejo")
    headers["X-Forgejo-Signature"] = hex_hmac(body, OTHER_SECRET)
    with pytest.raises(SignatureError, match="X-Forgejo-Signature"):
        FORGEJO.parse(body, headers)


def test_missing_event_header() -> None:
    with pytest.raises(PayloadError, match="X-Gitea-Event"):
        GITEA.parse(SAMPLE, {"X-Gitea-Signature": hex_hmac(SAMPLE)})


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
    with pytest.raises(PayloadError) as caught:
        GITEA.deliver(modern(**change))
    assert loc in [p.loc for p in caught.value.problems]
