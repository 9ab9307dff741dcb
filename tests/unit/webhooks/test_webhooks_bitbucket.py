"""Bitbucket Cloud `repo:push` deliveries, built in the shape Atlassian documents."""

from typing import Any

import pytest
from webhooks_support import (
    BITBUCKET,
    SHA_A,
    SHA_B,
    SHA_C,
    bitbucket_change,
    bitbucket_push,
    bitbucket_ref,
)

from shared.webhooks import (
    BRANCH_DELETED,
    NOT_A_BRANCH,
    TAG_PUSH,
    Ignored,
    PayloadError,
    Ping,
    Pushes,
    SignatureError,
)


def test_a_push_to_a_branch() -> None:
    push = BITBUCKET.push(bitbucket_push())
    assert push.provider == "bitbucket"
    assert (push.branch, push.commit, push.previous_commit) == ("main", SHA_B, SHA_A)
    assert push.pusher == "Ada Lovelace"
    assert push.changed_paths is None  # Bitbucket lists no files
    assert push.repository_urls == ("https://bitbucket.org/contoso/fleet-config",)
    assert push.repository_keys == {"bitbucket.org/contoso/fleet-config"}
    assert push.request_id == "8c3d5e7f-0a1b-4c2d-9e3f-4a5b6c7d8e9f"


def test_branch_creation() -> None:
    push = BITBUCKET.push(bitbucket_push([bitbucket_change(old={}, created=True)]))
    assert push.previous_commit is None


def test_branch_deletion() -> None:
    data = bitbucket_push([bitbucket_change(new={}, closed=True)])
    assert BITBUCKET.deliver(data) == Ignored(BRANCH_DELETED, "bitbucket")


def test_tag_push_and_tag_deletion() -> None:
    tag = bitbucket_ref("v1.0", SHA_B, kind="tag")
    created = bitbucket_push([bitbucket_change(new=tag, old={}, created=True)])
    deleted = bitbucket_push([bitbucket_change(new={}, old=tag, closed=True)])
    assert BITBUCKET.deliver(created) == Ignored(TAG_PUSH, "bitbucket")
    assert BITBUCKET.deliver(deleted) == Ignored(TAG_PUSH, "bitbucket")


def test_other_ref_types_are_ignored() -> None:
    bookmark = bitbucket_ref("b", SHA_B, kind="bookmark")
    data = bitbucket_push([bitbucket_change(new=bookmark, old={})])
    assert BITBUCKET.deliver(data) == Ignored(NOT_A_BRANCH, "bitbucket")


def test_several_branches_in_one_push() -> None:
    changes = [
        bitbucket_change(),
        bitbucket_change(new=bitbucket_ref("release", SHA_C), old=bitbucket_ref("release", SHA_B)),
        bitbucket_change(new=bitbucket_ref("v1", SHA_C, kind="tag"), old={}),
    ]
    result = BITBUCKET.deliver(bitbucket_push(changes))
    assert isinstance(result, Pushes)
    assert [(p.branch, p.commit) for p in result.pushes] == [("main", SHA_B), ("release", SHA_C)]
    assert {p.delivery_id for p in result.pushes} == {result.delivery_id}


def test_diagnostics_ping() -> None:
    assert BITBUCKET.deliver(b'{"test": true}', event="diagnostics:ping") == Ping("bitbucket")


def test_data_center_pushes_are_ignored_with_a_reason() -> None:
    body = {"eventKey": "repo:refs_changed", "changes": []}
    result = BITBUCKET.deliver(body, event="repo:refs_changed")
    assert isinstance(result, Ignored)
    assert "Data Center" in result.reason


def test_a_redelivery_dedupes_even_with_a_new_request_uuid() -> None:
    first = BITBUCKET.push(bitbucket_push(), request_uuid="11111111-1111-1111-1111-111111111111")
    again = BITBUCKET.push(bitbucket_push(), request_uuid="22222222-2222-2222-2222-222222222222")
    assert first.delivery_id == again.delivery_id
    assert first.delivery_id.startswith("bitbucket-")
    assert first.request_id != again.request_id


def test_different_pushes_get_different_ids() -> None:
    changes = [bitbucket_change(new=bitbucket_ref("main", SHA_C))]
    first = BITBUCKET.push(bitbucket_push())
    second = BITBUCKET.push(bitbucket_push(changes, full_name="contoso/x"))
    assert first.delivery_id != second.delivery_id


def test_the_repository_url_can_come_from_full_name_or_clone_links() -> None:
    data = bitbucket_push()
    del data["repository"]["links"]
    push = BITBUCKET.push(data)
    assert push.repository_urls == ("https://bitbucket.org/contoso/fleet-config",)

    data = bitbucket_push()
    data["repository"]["links"]["clone"] = [
        {"name": "https", "href": "https://ada@bitbucket.org/contoso/fleet-config.git"},
        {"name": "ssh", "href": "git@bitbucket.org:contoso/fleet-config.git"},
    ]
    push = BITBUCKET.push(data)
    assert len(push.repository_urls) == 3
    assert push.repository_keys == {"bitbucket.org/contoso/fleet-config"}


def test_a_bare_hex_signature_is_refused() -> None:
    body, headers = BITBUCKET.signed(bitbucket_push())
    headers["X-Hub-Signature"] = headers["X-Hub-Signature"].removeprefix("sha256=")
    with pytest.raises(SignatureError):
        BITBUCKET.parse(body, headers)


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda d: d["push"].pop("changes"), "push.changes"),
        (lambda d: d["push"]["changes"][0]["new"]["target"].update(hash="abc"), None),
        (lambda d: d["push"]["changes"][0]["new"].pop("name"), None),
        (lambda d: d.pop("repository"), "repository"),
        (lambda d: d["repository"].update(links={"html": {}}, full_name=None), None),
    ],
)
def test_malformed_bodies(mutate: Any, loc: str | None) -> None:
    data = bitbucket_push()
    mutate(data)
    with pytest.raises(PayloadError) as caught:
        BITBUCKET.deliver(data)
    if loc:
        assert loc in [p.loc for p in caught.value.problems]
