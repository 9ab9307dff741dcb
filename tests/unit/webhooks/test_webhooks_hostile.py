"""Signed but hostile payloads, as the signed webhook fuzz found them
(tests/e2e/test_webhook_fuzz.py): push times at the ends of the calendar (a 500, then a track
record nothing could read back), and answers that echoed a payload at any length."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from webhooks_support import (
    AZURE_DEVOPS,
    BITBUCKET,
    GITEA,
    GITHUB,
    GITLAB,
    Hook,
    bitbucket_push,
    load,
)

from shared.ordering import BranchHead, PushedCommit, first_head
from shared.webhooks.matching import not_followed
from shared.webhooks.times import instant
from triggers.git import MAX_REASONS, joined_reasons


@pytest.mark.parametrize(
    ("value", "read"),
    [
        # In UTC these fall before the first or after the last day Python can hold.
        ("0001-01-01T00:00:00+01:00", None),
        ("9999-12-31T23:59:59-01:00", None),
        ("0001-01-01T00:00:00-01:00", datetime(1, 1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999+00:00", datetime(9999, 12, 31, 23, 59, 59, 999999, UTC)),
        (253402300800, None),
        (-62135596801, None),
    ],
)
def test_times_at_the_ends_of_the_calendar(value: object, read: datetime | None) -> None:
    assert instant(value) == read


Where = tuple[str | int, ...]

TIME_FIELDS: list[tuple[Hook, Callable[[], dict[str, Any]], list[Where]]] = [
    (GITHUB, lambda: load("github-push-new-branch.json"), [("repository", "pushed_at")]),
    (
        GITHUB,  # no push time: the head commit's time (listed twice: head_commit, commits)
        lambda: load("github-push-new-branch.json"),
        [("head_commit", "timestamp"), ("commits", 0, "timestamp")],
    ),
    (GITLAB, lambda: load("gitlab-push.json"), [("commits", 1, "timestamp")]),
    (GITEA, lambda: load("gitea-push.json"), [("commits", 0, "timestamp")]),
    (AZURE_DEVOPS, lambda: load("azure-devops-git-push-2022.json"), [("resource", "date")]),
    (BITBUCKET, bitbucket_push, [("push", "changes", 0, "new", "target", "date")]),
]
"""Each provider's reference push, and where its push time comes from."""


def timed(
    make: Callable[[], dict[str, Any]], wheres: list[Where], value: str | None
) -> dict[str, Any]:
    """The push with `value` as its time (None: without one there)."""
    data = make()
    if ("repository", "pushed_at") not in wheres:
        data.get("repository", {}).pop("pushed_at", None)
    for where in wheres:
        parent: Any = data
        for key in where[:-1]:
            parent = parent[key]
        if value is None:
            del parent[where[-1]]
        else:
            parent[where[-1]] = value
    return data


@pytest.mark.parametrize(("hook", "make", "wheres"), TIME_FIELDS)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_push_time_off_the_calendar_is_no_time(
    hook: Hook, make: Callable[[], dict[str, Any]], wheres: list[Where], value: str
) -> None:
    """Read as no time at all, as anything that is not a time (it was an OverflowError, and a
    500): the push is a push, timed as it would be without that field."""
    without = hook.push(timed(make, wheres, None)).pushed_at
    assert hook.push(timed(make, wheres, value)).pushed_at == without


@pytest.mark.parametrize(("hook", "make", "wheres"), TIME_FIELDS)
def test_a_push_in_the_year_one_is_kept_as_a_time_the_store_reads_back(
    hook: Hook, make: Callable[[], dict[str, Any]], wheres: list[Where]
) -> None:
    """A track keeps the newest push's time in its head; written as `1-01-01T…` it could not be
    read back, and every webhook after it failed listing the tracks (a 500 for good)."""
    push = hook.push(timed(make, wheres, "0001-01-01T00:00:00-01:00"))
    assert push.pushed_at == datetime(1, 1, 1, 1, tzinfo=UTC)
    head = first_head(PushedCommit(push.commit, push.previous_commit, push.pushed_at, "d-1"))
    stored = json.loads(json.dumps(head.to_wire()))
    assert stored["pushedAt"] == "0001-01-01T01:00:00.000000Z"
    assert BranchHead.model_validate(stored) == head


def test_an_unfollowed_branch_is_named_in_a_few_hundred_bytes_at_most() -> None:
    """The reason is part of the answer: a branch of any length (or escaping) keeps it short."""
    for branch in ["main", "x" * 20_000, "\U0001f600" * 5_000]:
        reason = not_followed(branch)
        assert reason.startswith("branch '") and reason.endswith("' is not followed by any track")
        assert len(json.dumps({"ignored": reason})) < 1_500
    assert not_followed("release/1.2") == "branch 'release/1.2' is not followed by any track"


def test_an_answer_lists_each_reason_once_and_a_few_at_most() -> None:
    """One delivery can move any number of branches, each with its reason to be ignored."""
    assert joined_reasons(["a", "b"]) == "a; b"
    assert joined_reasons([not_followed("x" * 500)] * 1_000) == not_followed("x" * 500)
    many = [not_followed(f"{i}-" + "\U0001f600" * 500) for i in range(1_000)]
    joined = joined_reasons(many)
    assert joined == "; ".join([*many[:MAX_REASONS], f"and {1_000 - MAX_REASONS} more"])
    assert len(json.dumps({"ignored": joined})) < 8 * 1024
