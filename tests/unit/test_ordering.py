"""Pushes in order: a push is taken only when it is newer than the newest its track took."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.ordering import RECENT, BranchHead, Placement, PushedCommit, first_head, place
from shared.store import TrackRecord
from shared.trackspec import validate_track_spec

A, B, C, D, X = ("a" * 40, "b" * 40, "c" * 40, "d" * 40, "e" * 40)
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def push(
    commit: str, previous: str | None, *, at: datetime | None = None, id: str = ""
) -> PushedCommit:
    return PushedCommit(commit, previous, at, id or f"d-{commit[:1]}-{(previous or '0')[:1]}")


def taken(*pushes: PushedCommit) -> BranchHead:
    head = first_head(pushes[0])
    for p in pushes[1:]:
        head = head.moved_to(p)
    return head


def test_the_first_push_is_newer() -> None:
    assert place(None, push(B, A)).placement is Placement.NEWER


def test_a_push_that_moves_on_from_the_head_is_newer() -> None:
    placed = place(taken(push(B, A)), push(C, B))
    assert (placed.placement, placed.why) == (Placement.NEWER, "ccccccc moves on from bbbbbbb")


def test_the_same_delivery_again_is_taken_again() -> None:
    first = push(B, A, id="d-1")
    assert place(taken(first), push(B, A, id="d-1")).placement is Placement.AGAIN


@pytest.mark.parametrize(
    ("late", "why"),
    [
        (push(B, A, id="replay"), "bbbbbbb is older: ccccccc moved on from it"),
        (push(C, X, id="other"), "ccccccc is already the newest push the track took"),
    ],
)
def test_an_older_push_or_the_head_again_is_stale(late: PushedCommit, why: str) -> None:
    head = taken(push(B, A), push(C, B))
    placed = place(head, late)
    assert (placed.placement, placed.why) == (Placement.STALE, why)


def test_a_push_of_what_the_head_moved_on_from_is_stale() -> None:
    """The newer push arrived first: the older one, late, brings the commit it replaced."""
    assert place(taken(push(C, B)), push(B, A)).placement is Placement.STALE


def test_a_late_delivery_of_an_older_push_is_stale_by_its_chain() -> None:
    head = taken(push(B, A), push(C, B))
    assert place(head, push(D, B)).placement is Placement.STALE  # moved on from B, long replaced


def test_where_the_chain_cannot_tell_the_push_time_does() -> None:
    head = taken(push(B, A, at=T0))
    assert place(head, push(X, D, at=T0 + timedelta(seconds=1))).placement is Placement.NEWER
    older = place(head, push(X, D, at=T0 - timedelta(seconds=1)))
    assert older.placement is Placement.STALE
    assert "pushed at 2026-11-30 23:59:59Z, before bbbbbbb" in older.why


def test_the_chain_wins_over_the_time() -> None:
    """A force push back to an older commit moves on from the head: it is newer, whatever
    its (old) commit time says."""
    head = taken(push(A, None, at=T0), push(B, A, at=T0 + timedelta(hours=1)))
    assert place(head, push(A, B, at=T0)).placement is Placement.NEWER


def test_nothing_says_older_means_newer() -> None:
    assert place(taken(push(B, A)), push(X, D)).placement is Placement.NEWER


def test_the_head_remembers_a_bounded_number_of_earlier_heads() -> None:
    commits = [f"{i:040x}" for i in range(RECENT + 10)]
    head = first_head(push(commits[0], None))
    for previous, commit in itertools.pairwise(commits):
        head = head.moved_to(push(commit, previous))
    assert head.commit == commits[-1]
    assert head.recent[0] == commits[-2] and len(head.recent) == RECENT


@given(st.lists(st.sampled_from([A, B, C, D, X]), min_size=2, max_size=12))
def test_a_linear_history_is_taken_in_order_and_never_twice(chain: list[str]) -> None:
    """Pushes of one branch's history, each moving on from the last: every one is newer; any
    of them delivered again later (under another id) is stale."""
    head: BranchHead | None = None
    history: list[PushedCommit] = []
    previous = None
    for i, commit in enumerate(chain):
        if commit == previous:
            continue
        p = push(commit, previous, id=f"d-{i}")
        assert place(head, p).placement is Placement.NEWER
        head = head.moved_to(p) if head else first_head(p)
        history.append(p)
        previous = commit
    assert head is not None
    for old in history[:-1]:
        replay = PushedCommit(old.commit, old.previous, None, f"replay-{old.delivery_id}")
        if old.previous != head.commit:
            assert place(head, replay).placement is Placement.STALE


def track(branch: str = "main") -> TrackRecord:
    spec = validate_track_spec(
        {
            "name": "baseline",
            "source": {"url": "https://github.com/contoso/fleet-config", "branch": branch},
            "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./"}}},
            "fleet": {"subscriptions": ["00000000-0000-0000-0000-000000000001"]},
            "waves": [{"name": "all"}],
        }
    )
    return TrackRecord.for_spec(spec, T0)


def test_a_track_takes_a_newer_push_and_writes_nothing_for_a_stale_one() -> None:
    record, placed = track().taking(push(B, A))
    assert placed.placement is Placement.NEWER
    assert record is not None and record.head is not None and record.head.commit == B
    again, stale = record.taking(push(B, A, id="replay"))
    assert again is None and stale.placement is Placement.STALE


def test_a_track_that_follows_another_branch_forgets_the_old_head() -> None:
    record, _ = track().taking(push(B, A))
    assert record is not None
    same = record.with_spec(record.track_spec())
    assert same.head == record.head
    moved = record.with_spec(track("release").track_spec())
    assert moved.head is None
