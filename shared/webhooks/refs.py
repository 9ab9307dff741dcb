"""Ref updates as a push payload states them, and which of them move a branch.

A push moves refs (`refs/heads/main` from `before` to `after`); only branch moves can feed a
track. Tags, branch deletions and other refs (`refs/pull/7/head`) are ignored with a short,
stable reason.
"""

from dataclasses import dataclass
from typing import NamedTuple

ZERO_SHA = "0" * 40
"""The object id providers send for "no commit": `before` of a new ref, `after` of a deletion."""

TAG_PUSH = "tag push"
BRANCH_DELETED = "branch deleted"
NOT_A_BRANCH = "not a branch ref"

_BRANCHES = "refs/heads/"
_TAGS = "refs/tags/"


class RefUpdate(NamedTuple):
    """One ref the push moved, as the signed body says: `ref` went from `before` to `after`.

    A deleted ref moved to `ZERO_SHA`. The `(ref, before, after)` triple is what a derived
    delivery id is made of (`derived_delivery_id`).
    """

    ref: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class BranchMove:
    """A branch that moved to `commit`; `previous` is None for a new branch."""

    branch: str
    commit: str
    previous: str | None


def branch_ref(name: str, tag: bool = False) -> str:
    """The full ref of a branch (or a tag) given by its short name."""
    return (_TAGS if tag else _BRANCHES) + name


def previous(before: str) -> str | None:
    """The commit before the push, None for a new branch."""
    return None if before == ZERO_SHA else before


def branch_moved(update: RefUpdate) -> BranchMove | str:
    """The branch `update` moved, or why it is ignored (tag, deletion, not a branch)."""
    if update.ref.startswith(_TAGS):
        return TAG_PUSH
    if not update.ref.startswith(_BRANCHES) or update.ref == _BRANCHES:
        return NOT_A_BRANCH
    if update.after == ZERO_SHA:
        return BRANCH_DELETED
    return BranchMove(update.ref[len(_BRANCHES) :], update.after, previous(update.before))
