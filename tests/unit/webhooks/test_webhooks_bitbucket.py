"""Bitbucket Cloud `repo:push` deliveries, built in the shape Atlassian documents."""

from typing import Any

import pytest
from webhooks_support import (
    OTHER_SECRET,
    SECRET,
    SHA_A,
    SHA_B,
    SHA_C,
    bitbucket_change,
    bitbucket_push,
    bitbucket_ref,
    dumps,
    sign_bitbucket,
)

from shared.webhooks import (
    BRANCH_DELETED,
    NOT_A_BRANCH,
    TAG_PUSH,
    Ignored,
    PayloadError,
    Ping,
    Push,
    Pushes,
    SignatureError,
    parse_webhook,
)


def parse(body: bytes, headers: dict[str, str], secrets: str = SECRET) -> object:
    return parse_webhook("bitbucket", headers, body, secrets)


def test_a_push_to_a_branch() -> None:
    body = dumps(bitbucket_push())
    push = parse(body, sign_bitbucket(body))
    assert isinstance(push, Push)
    assert push.provider == "bitbucket"
    assert (push.branch, push.commit, push.previous_commit) == ("main", SHA_B, SHA_A)
    assert push.pusher == "Ada Lovelace"
    assert push.changed_paths is None  # Bitbucket lists no files
    assert push.repository_urls == ("https://bitbucket.org/contoso/fleet-config",)
    assert push.repository_keys == {"bitbucket.org/contoso/fleet-config"}
    assert push.request_id == "8c3d5e7f-0a1b-4c2d-9e3f-4a5b6c7d8e9f"


def test_branch_creation() -> None:
    body = dumps(bitbucket_push([bitbucket_change(old={}, created=True)]))
    push = parse(body, sign_bitbucket(body))
    assert isinstance(push, Push)
    assert push.previous_commit is None


def test_branch_deletion() -> None:
    body = dumps(bitbucket_push([bitbucket_change(new={}, closed=True)]))
    assert parse(body, sign_bitbucket(body)) == Ignored(BRANCH_DELETED, "bitbucket")


def test_tag_push_and_tag_deletion() -> None:
    tag = bitbucket_ref("v1.0", SHA_B, kind="tag")
    created = dumps(bitbucket_push([bitbucket_change(new=tag, old={}, created=True)]))
    deleted = dumps(bitbucket_push([bitbucket_change(new={}, old=tag, closed=True)]))
    assert parse(created, sign_bitbucket(created)) == Ignored(TAG_PUSH, "bitbucket")
    assert parse(deleted, sign_bitbucket(deleted)) == Ignored(TAG_PUSH, "bitbucket")


def test_other_ref_types_are_ignored() -> None:
    bookmark = bitbucket_ref("b", SHA_B, kind="bookmark")
    body = dumps(bitbucket_push([bitbucket_change(new=bookmark, old={})]))
    assert parse(body, sign_bitbucket(body)) == Ignored(NOT_A_BRANCH, "bitbucket")


def test_several_branches_in_one_push() -> None:
    changes = [
        bitbucket_change(),
        bitbucket_change(new=bitbucket_ref("release", SHA_C), old=bitbucket_ref("release", SHA_B)),
        bitbucket_change(new=bitbucket_ref("v1", SHA_C, kind="tag"), old={}),
    ]
    body = dumps(bitbucket_push(changes))
    result = parse(body, sign_bitbucket(body))
    assert isinstance(result, Pushes)
    assert [(p.branch, p.commit) for p in result.pushes] == [("main", SHA_B), ("release", SHA_C)]
    assert {p.delivery_id for p in result.pushes} == {result.delivery_id}


def test_diagnostics_ping() -> None:
    body = b'{"test": true}'
    assert parse(body, sign_bitbucket(body, event="diagnostics:ping")) == Ping("bitbucket")


@pytest.mark.parametrize("event", ["pullrequest:created", "repo:commit_status_updated"])
def test_other_events_are_ignored(event: str) -> None:
    body = dumps(bitbucket_push())
    assert parse(body, sign_bitbucket(body, event=event)) == Ignored(
        f"event '{event}' is not a push", "bitbucket"
    )


def test_data_center_pushes_are_ignored_with_a_reason() -> None:
    body = dumps({"eventKey": "repo:refs_changed", "changes": []})
    result = parse(body, sign_bitbucket(body, event="repo:refs_changed"))
    assert isinstance(result, Ignored)
    assert "Data Center" in result.reason


def test_a_redelivery_dedupes_even_with_a_new_request_uuid() -> None:
    body = dumps(bitbucket_push())
    first = parse(body, sign_bitbucket(body, request_uuid="11111111-1111-1111-1111-111111111111"))
    again = parse(body, sign_bitbucket(body, request_uuid="22222222-2222-2222-2222-222222222222"))
    assert isinstance(first, Push)
    assert isinstance(again, Push)
    assert first.delivery_id == again.delivery_id
    assert first.delivery_id.startswith("bitbucket-")
    assert first.request_id != again.request_id


def test_different_pushes_get_different_ids() -> None:
    one = dumps(bitbucket_push())
    other = dumps(
        bitbucket_push([bitbucket_change(new=bitbucket_ref("main", SHA_C))], full_name="contoso/x")
    )
    first = parse(one, sign_bitbucket(one))
    second = parse(other, sign_bitbucket(other))
    assert isinstance(first, Push)
    assert isinstance(second, Push)
    assert first.delivery_id != second.delivery_id


def test_the_repository_url_can_come_from_full_name_or_clone_links() -> None:
    data = bitbucket_push()
    del data["repository"]["links"]
    body = dumps(data)
    push = parse(body, sign_bitbucket(body))
    assert isinstance(push, Push)
    assert push.repository_urls == ("https://bitbucket.org/contoso/fleet-config",)

    data = bitbucket_push()
    data["repository"]["links"]["clone"] = [
        {"name": "https", "href": "https://ada@bitbucket.org/contoso/fleet-config.git"},
        {"name": "ssh", "href": "git@bitbucket.org:contoso/fleet-config.git"},
    ]
    body = dumps(data)
    push = parse(body, sign_bitbucket(body))
    assert isinstance(push, Push)
    assert len(push.repository_urls) == 3
    assert push.repository_keys == {"bitbucket.org/contoso/fleet-config"}


def test_wrong_secret_and_missing_signature() -> None:
    body = dumps(bitbucket_push())
    with pytest.raises(SignatureError):
        parse(body, sign_bitbucket(body, secret=OTHER_SECRET))
    headers = sign_bitbucket(body)
    del headers["X-Hub-Signature"]
    with pytest.raises(SignatureError, match="missing X-Hub-Signature"):
        parse(body, headers)


def test_a_bare_hex_signature_is_refused() -> None:
    body = dumps(bitbucket_push())
    headers = sign_bitbucket(body)
    headers["X-Hub-Signature"] = headers["X-Hub-Signature"].removeprefix("sha256=")
    with pytest.raises(SignatureError):
        parse(body, headers)


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
    body = dumps(data)
    with pytest.raises(PayloadError) as caught:
        parse(body, sign_bitbucket(body))
    if loc:
        assert loc in [p.loc for p in caught.value.problems]
