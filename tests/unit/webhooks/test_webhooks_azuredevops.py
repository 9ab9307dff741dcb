"""Azure DevOps `git.push` service hooks, with the samples Microsoft publishes."""

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from webhooks_support import AZURE_DEVOPS, SECRET, SHA_A, SHA_B, ZERO, load, raw

from shared.webhooks import (
    BRANCH_DELETED,
    TAG_PUSH,
    Ignored,
    PayloadError,
    Push,
    Pushes,
    SignatureError,
    pushes_in,
)

EVENT_ID = "03c164c2-8912-4d5e-8009-3707d5f83734"
SAMPLE = raw("azure-devops-git-push-2022.json")


def with_refs(*refs: tuple[str, str, str], **change: Any) -> dict[str, Any]:
    data = load("azure-devops-git-push-2022.json")
    data["resource"]["refUpdates"] = [
        {"name": name, "oldObjectId": old, "newObjectId": new} for name, old, new in refs
    ]
    data.update(change)
    return data


def test_the_published_push() -> None:
    push = AZURE_DEVOPS.push(SAMPLE)
    assert push.provider == "azuredevops"
    assert push.branch == "master"
    assert push.commit == "33b55f7cb7e7e245323987634f960cf4a6e6bc74"
    assert push.previous_commit == "aad331d8d3b131fa9ae03cf5e53965b51942618a"
    assert push.pusher == "Jamal Hartnett"
    assert push.delivery_id.startswith("azuredevops-")
    assert push.request_id == EVENT_ID
    assert push.pushed_at == datetime(2014, 5, 2, 19, 17, 13, 330958, tzinfo=UTC)
    assert push.changed_paths is None  # Azure DevOps lists no files
    assert push.repository_keys == {
        "dev.azure.com/fabrikam-fiber-inc/fabrikam-fiber-git/_git/fabrikam-fiber-git"
    }


def test_the_newest_published_sample_has_placeholder_guids_for_shas() -> None:
    with pytest.raises(PayloadError) as caught:
        AZURE_DEVOPS.deliver(raw("azure-devops-git-push.json"))
    assert caught.value.problems[0].loc == "resource.refUpdates[0].newObjectId"


def test_branch_creation() -> None:
    assert AZURE_DEVOPS.push(with_refs(("refs/heads/main", ZERO, SHA_B))).previous_commit is None


def test_branch_deletion_and_tags_are_ignored() -> None:
    deleted = with_refs(("refs/heads/main", SHA_A, ZERO))
    tag = with_refs(("refs/tags/v1", ZERO, SHA_B))
    assert AZURE_DEVOPS.deliver(deleted) == Ignored(BRANCH_DELETED, "azuredevops")
    assert AZURE_DEVOPS.deliver(tag) == Ignored(TAG_PUSH, "azuredevops")


def test_one_push_updating_several_branches() -> None:
    result = AZURE_DEVOPS.deliver(
        with_refs(
            ("refs/heads/main", SHA_A, SHA_B),
            ("refs/tags/v1", ZERO, SHA_B),
            ("refs/heads/release/1", ZERO, SHA_B),
        )
    )
    assert isinstance(result, Pushes)
    assert result.delivery_id.startswith("azuredevops-")
    assert [(p.branch, p.previous_commit) for p in pushes_in(result)] == [
        ("main", SHA_A),
        ("release/1", None),
    ]
    assert {p.delivery_id for p in result.pushes} == {result.delivery_id}


def test_a_branch_update_next_to_a_tag_is_a_single_push() -> None:
    AZURE_DEVOPS.push(with_refs(("refs/tags/v1", ZERO, SHA_B), ("refs/heads/main", SHA_A, SHA_B)))


@pytest.mark.parametrize("event", ["git.pullrequest.created", "build.complete", "tfvc.checkin"])
def test_other_event_types_are_ignored(event: str) -> None:
    data = with_refs(("refs/heads/main", SHA_A, SHA_B), eventType=event)
    assert AZURE_DEVOPS.deliver(data) == Ignored(f"event '{event}' is not a push", "azuredevops")


def test_the_delivery_id_comes_from_the_signed_body_not_the_event_id() -> None:
    first = AZURE_DEVOPS.push(SAMPLE)
    again = AZURE_DEVOPS.push(SAMPLE, user="someone-else")
    data = load("azure-devops-git-push-2022.json")
    replayed = AZURE_DEVOPS.push({**data, "id": "11111111-2222-3333-4444-555555555555"})
    assert first.delivery_id == again.delivery_id == replayed.delivery_id
    data["resource"]["date"] = "2026-01-01T00:00:00Z"
    later = AZURE_DEVOPS.push(data)
    assert later.delivery_id != first.delivery_id  # a new push of the same commits


def test_without_an_event_id_the_id_is_derived() -> None:
    data = with_refs(("refs/heads/main", SHA_A, SHA_B))
    del data["id"]
    push = AZURE_DEVOPS.push(data)
    again = AZURE_DEVOPS.push(data)
    assert push.delivery_id.startswith("azuredevops-")
    assert push.delivery_id == again.delivery_id


def test_the_user_name_is_not_checked() -> None:
    AZURE_DEVOPS.push(SAMPLE, user="")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(SECRET.encode()).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:" + b"\xff").decode(),
    ],
)
def test_missing_or_malformed_authorization(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with pytest.raises(SignatureError):
        AZURE_DEVOPS.parse(SAMPLE, headers)


def test_a_password_with_colons_is_read_whole() -> None:
    assert isinstance(AZURE_DEVOPS.deliver(SAMPLE, secrets="a:b:c", secret="a:b:c"), Push)


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"eventType": "git.push"}, "resource"),
        ({"eventType": 1}, "eventType"),
        ({"eventType": "git.push", "resource": {"refUpdates": {}, "repository": {}}}, None),
        (
            {
                "eventType": "git.push",
                "resource": {"refUpdates": [{"name": "refs/heads/x"}], "repository": {}},
            },
            "resource.refUpdates[0].oldObjectId",
        ),
    ],
)
def test_malformed_bodies(data: dict[str, Any], loc: str | None) -> None:
    with pytest.raises(PayloadError) as caught:
        AZURE_DEVOPS.deliver(data)
    if loc:
        assert loc in [p.loc for p in caught.value.problems]
