"""Pushes in order: a push a track takes must be newer than the newest it took before.

Dedupe (on an id derived from the signed body) stops the same delivery twice; this stops a
push that is not newer: an older push delivered late, or a captured body replayed once its
delivery id has expired. Per track (one repository and branch) the newest push taken is kept
as a `BranchHead`, and a new push is placed against it:

    the same delivery as the head's           again: a redelivery after a crash hands it over
    its commit is the head's                  stale: nothing newer to roll out
    it moves on from the head's commit        newer (the chain of commits says so)
    its commit is one the branch had before   stale: an earlier head, or what the head
                                              moved on from
    both have a push time                     newer or stale by it
    it moves on from a commit taken before    stale: a late delivery of an older push
    nothing says it is older                  newer (a force push to a new commit)

The chain of commits (`before` → `after`) decides first; a time only where the chain cannot,
and the provider's own push time is preferred to the head commit's time (a rebase can give a
new commit an old date). A stale push starts nothing; an operator can still roll out any
revision on purpose (`POST /api/tracks/{name}/rollouts`).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.revision import short_revision
from shared.times import UtcTime
from shared.wire import WireModel

RECENT = 100
"""How many earlier heads a track remembers, to know a push that goes back to one of them."""


@dataclass(frozen=True, slots=True)
class PushedCommit:
    """Where one push puts a branch, as its signed body says."""

    commit: str
    previous: str | None
    pushed_at: datetime | None
    delivery_id: str


class BranchHead(WireModel):
    """The newest push a track took for its branch, and the heads before it."""

    commit: str
    previous: str | None = None
    pushed_at: UtcTime | None = None
    delivery_id: str
    recent: list[str] = Field(default_factory=list)
    """Earlier heads, newest first, at most `RECENT`."""

    def moved_to(self, push: PushedCommit) -> "BranchHead":
        """The head once `push` is taken."""
        return BranchHead(
            commit=push.commit,
            previous=push.previous,
            pushed_at=push.pushed_at,
            delivery_id=push.delivery_id,
            recent=[self.commit, *(c for c in self.recent if c != push.commit)][:RECENT],
        )


class Placement(StrEnum):
    NEWER = "newer"
    AGAIN = "again"
    """The delivery the head came from, delivered again before it was marked handed over."""
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Placed:
    placement: Placement
    why: str

    @property
    def taken(self) -> bool:
        return self.placement is not Placement.STALE


def first_head(push: PushedCommit) -> BranchHead:
    return BranchHead(
        commit=push.commit,
        previous=push.previous,
        pushed_at=push.pushed_at,
        delivery_id=push.delivery_id,
    )


def place(head: BranchHead | None, push: PushedCommit) -> Placed:
    """Where `push` stands against the newest push taken (see the module docstring)."""
    if head is None:
        return Placed(Placement.NEWER, "the first push the track takes")
    short, newest = short_revision(push.commit), short_revision(head.commit)
    if push.delivery_id == head.delivery_id:
        return Placed(Placement.AGAIN, f"the delivery that moved the track to {newest}")
    if push.commit == head.commit:
        return Placed(Placement.STALE, f"{short} is already the newest push the track took")
    if push.previous == head.commit:
        return Placed(Placement.NEWER, f"{short} moves on from {newest}")
    if push.commit in head.recent or push.commit == head.previous:
        return Placed(Placement.STALE, f"{short} is older: {newest} moved on from it")
    if push.pushed_at is not None and head.pushed_at is not None:
        if push.pushed_at > head.pushed_at:
            return Placed(Placement.NEWER, f"{short} was pushed after {newest}")
        if push.pushed_at < head.pushed_at:
            return Placed(
                Placement.STALE,
                f"{short} was pushed at {push.pushed_at:%Y-%m-%d %H:%M:%S}Z, before {newest} "
                f"({head.pushed_at:%Y-%m-%d %H:%M:%S}Z)",
            )
    if push.previous is not None and push.previous in head.recent:
        return Placed(
            Placement.STALE,
            f"{short} moves on from {short_revision(push.previous)}, which {newest} replaced: "
            "a late delivery of an older push",
        )
    return Placed(Placement.NEWER, f"nothing says {short} is older than {newest}")
