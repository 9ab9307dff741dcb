"""GitHub deliveries, with the published octokit examples and pushes built from them."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from webhooks_support import (
    GITHUB,
    OTHER_SECRET,
    SECRET,
    SHA_A,
    SHA_B,
    ZERO,
    github_push,
    hex_hmac,
    raw,
)

from shared.webhooks import (
    BRANCH_DELETED,
    NOT_A_BRANCH,
    TAG_PUSH,
    Ignored,
    PayloadError,
    Ping,
    Push,
    SignatureError,
)

parse = GITHUB.parse


def test_githubs_documented_test_vector() -> None:
    # docs.github.com "Validating webhook deliveries": this secret and body give this signature.
    digest = hex_hmac(b"Hello, World!", "It's a Secret to Everybody")
    assert digest == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_a_push_to_a_branch() -> None:
    push = GITHUB.push(github_push(files=[["clusters/wave1/apps.yaml"], ["README.md"]]))
    assert push.provider == "github"
    assert push.branch == "main"
    assert push.commit == SHA_B
    assert push.previous_commit == SHA_A
    assert push.changed_paths == frozenset({"clusters/wave1/apps.yaml", "README.md"})
    assert push.pusher == "Codertocat"
    assert push.delivery_id.startswith("github-")
    assert push.request_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert push.repository_urls == (
        "https://github.com/Codertocat/Hello-World.git",
        "git@github.com:Codertocat/Hello-World.git",
        "https://github.com/Codertocat/Hello-World",
        "git://github.com/Codertocat/Hello-World.git",
    )
    assert push.repository_keys == {"github.com/codertocat/hello-world"}
    assert push.revision.commit == SHA_B
    assert push.revision.branch == "main"


def test_changed_paths_cover_added_modified_and_removed() -> None:
    data = github_push()
    data["commits"][0].update(added=["a.yaml"], modified=["b.yaml"], removed=["c.yaml"])
    push = GITHUB.push(data)
    assert push.changed_paths == frozenset({"a.yaml", "b.yaml", "c.yaml"})


def test_branch_creation_is_a_push_without_a_previous_commit() -> None:
    push = GITHUB.push(raw("github-push-new-branch.json"))
    assert (push.branch, push.commit) == ("master", SHA_A)
    assert push.previous_commit is None
    assert push.changed_paths is None  # a new branch: its commits are not all listed


@pytest.mark.parametrize(
    ("extra", "files"),
    [
        ({"forced": True}, [["a.yaml"]]),
        ({}, []),
        ({}, [["a.yaml"]] * 20),
    ],
    ids=["forced", "no-commits-listed", "20-commits-may-be-capped"],
)
def test_changed_paths_are_unknown_when_the_list_may_be_incomplete(
    extra: dict[str, Any], files: list[list[str]]
) -> None:
    assert GITHUB.push(github_push(files=files, **extra)).changed_paths is None


def test_a_commit_without_file_lists_makes_changed_paths_unknown() -> None:
    data = github_push()
    del data["commits"][0]["modified"]
    assert GITHUB.push(data).changed_paths is None


def test_tag_deletion_is_ignored_as_a_tag_push() -> None:
    assert GITHUB.deliver(raw("github-push-tag-delete.json")) == Ignored(TAG_PUSH, "github")


def test_tag_creation_push_is_ignored() -> None:
    data = github_push(ref="refs/tags/v1.2.0", before=ZERO, created=True)
    assert GITHUB.deliver(data) == Ignored(TAG_PUSH, "github")


def test_create_event_for_a_tag_is_not_a_push() -> None:
    assert GITHUB.deliver(raw("github-create-tag.json"), event="create") == Ignored(
        "event 'create' is not a push", "github"
    )


def test_branch_deletion_is_ignored() -> None:
    data = github_push(after=ZERO, deleted=True, files=[])
    assert GITHUB.deliver(data) == Ignored(BRANCH_DELETED, "github")


def test_pushes_to_other_refs_are_ignored() -> None:
    assert GITHUB.deliver(github_push(ref="refs/pull/7/head")) == Ignored(NOT_A_BRANCH, "github")


@pytest.mark.parametrize("name", ["github-ping.json", "github-ping-organization.json"])
def test_ping(name: str) -> None:
    assert GITHUB.deliver(raw(name), event="ping") == Ping("github")


@pytest.mark.parametrize("header", ["aaaa-1", "bbbb-2", None, "not an id?"])
def test_the_delivery_id_comes_from_the_signed_body_whatever_the_header_says(
    header: str | None,
) -> None:
    first = GITHUB.push(github_push(), delivery="aaaa-1")
    replayed = GITHUB.push(github_push(), delivery=header)
    assert replayed.delivery_id == first.delivery_id
    assert first.delivery_id.startswith("github-")
    assert replayed.request_id == (header if header != "not an id?" else None)


def test_another_push_has_another_delivery_id() -> None:
    first = GITHUB.push(github_push())
    assert GITHUB.push(github_push(after="1" * 40)).delivery_id != first.delivery_id
    again = github_push()
    again["repository"]["pushed_at"] = again["repository"]["pushed_at"] + 60
    assert GITHUB.push(again).delivery_id != first.delivery_id  # the same commits pushed again


def test_the_push_time_is_githubs_own_else_the_head_commits() -> None:
    data = github_push()
    data["repository"]["pushed_at"] = 1767225600
    assert GITHUB.push(data).pushed_at == datetime(2026, 1, 1, tzinfo=UTC)
    del data["repository"]["pushed_at"]
    data["head_commit"] = {"id": SHA_B, "timestamp": "2026-01-01T02:00:00+02:00"}
    assert GITHUB.push(data).pushed_at == datetime(2026, 1, 1, tzinfo=UTC)
    data["head_commit"]["timestamp"] = "yesterday"
    assert GITHUB.push(data).pushed_at is None


def test_a_tampered_body_fails() -> None:
    body, headers = GITHUB.signed(github_push())
    with pytest.raises(SignatureError):
        parse(body.replace(SHA_B.encode(), b"f" * 40), headers)


def test_a_sha1_only_signature_is_refused_even_when_right() -> None:
    body, headers = GITHUB.signed(github_push())
    del headers["X-Hub-Signature-256"]
    with pytest.raises(SignatureError, match="missing X-Hub-Signature-256"):
        parse(body, headers)


@pytest.mark.parametrize(
    "value", ["", "sha256=", "sha1=abc", "757107ea0e", "sha256=zz", "sha256=é"]
)
def test_malformed_signatures(value: str) -> None:
    body, headers = GITHUB.signed(github_push())
    headers["X-Hub-Signature-256"] = value
    with pytest.raises(SignatureError):
        parse(body, headers)


def test_header_names_are_case_insensitive_and_hex_case_does_not_matter() -> None:
    body, signed = GITHUB.signed(github_push())
    headers = {k.lower(): v for k, v in signed.items()}
    headers["x-hub-signature-256"] = (
        headers["x-hub-signature-256"].upper().replace("SHA256", "sha256")
    )
    assert isinstance(parse(body, headers), Push)


def test_any_of_several_secrets_verifies() -> None:
    GITHUB.push(github_push(), secrets=[OTHER_SECRET, SECRET])


def test_form_encoded_deliveries() -> None:
    from urllib.parse import urlencode

    body, headers = GITHUB.signed(urlencode({"payload": json.dumps(github_push())}).encode())
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    push = parse(body, headers)
    assert isinstance(push, Push)
    assert push.commit == SHA_B


def test_missing_event_header_is_a_payload_error() -> None:
    body, headers = GITHUB.signed(github_push())
    del headers["X-GitHub-Event"]
    with pytest.raises(PayloadError) as caught:
        parse(body, headers)
    assert caught.value.problems[0].loc == "headers.X-GitHub-Event"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"after": "59b20b8"}, "after"),
        ({"after": 42}, "after"),
        ({"before": None}, "before"),
        ({"ref": ["refs/heads/main"]}, "ref"),
        ({"repository": "Codertocat/Hello-World"}, "repository"),
        ({"commits": [{"modified": "a.yaml"}]}, "commits[0].modified"),
        ({"deleted": "no"}, "deleted"),
    ],
)
def test_malformed_fields_name_the_field(change: dict[str, object], loc: str) -> None:
    data = github_push()
    data.update(change)
    with pytest.raises(PayloadError) as caught:
        GITHUB.deliver(data)
    assert loc in [p.loc for p in caught.value.problems]


def test_missing_fields_are_each_named() -> None:
    data = github_push()
    del data["after"], data["repository"]
    with pytest.raises(PayloadError) as caught:
        GITHUB.deliver(data)
    assert {p.loc for p in caught.value.problems} == {"after", "repository"}
    assert caught.value.to_wire()["error"] == "invalid GitHub push payload"


def test_a_repository_without_urls_is_a_payload_error() -> None:
    data = github_push()
    data["repository"] = {"full_name": "Codertocat/Hello-World"}
    with pytest.raises(PayloadError, match="no repository URL"):
        GITHUB.deliver(data)


def test_upper_case_shas_are_lower_cased() -> None:
    assert GITHUB.push(github_push(after=SHA_B.upper())).commit == SHA_B
