"""Which files a push changed, when the payload lists every pushed commit with its files.

GitHub, GitLab and Gitea list `added`/`modified`/`removed` per commit, but cap the list or leave
out a new branch's history; each provider says when its list is complete. When it may not be,
the answer is None and path filters let the push through.
"""

from collections.abc import Sequence

from shared.webhooks.body import PayloadModel
from shared.webhooks.refs import previous


class CommitFiles(PayloadModel):
    """The per-commit file lists GitHub, GitLab and Gitea send."""

    added: list[str] | None = None
    modified: list[str] | None = None
    removed: list[str] | None = None


def changed_files(commits: Sequence[CommitFiles]) -> frozenset[str] | None:
    """The union of the files the commits touched; None if any commit does not list them."""
    files: set[str] = set()
    for commit in commits:
        if commit.added is None or commit.modified is None or commit.removed is None:
            return None
        files.update(commit.added, commit.modified, commit.removed)
    return frozenset(files)


def counted_changes(
    before: str, commits: Sequence[CommitFiles] | None, total: int | None
) -> frozenset[str] | None:
    """The changed files when the payload counts the pushed commits and lists them all.

    GitLab (`total_commits_count`) and Gitea (`total_commits`): None for a new branch, an
    empty list, or a list shorter than the count.
    """
    listed = commits or []
    if previous(before) is None or not listed:
        return None
    if total is None or total != len(listed):
        return None
    return changed_files(listed)
