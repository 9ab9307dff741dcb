"""Which tracks a push feeds: same repository (by canonical URL), same branch, a wanted path."""

from shared.trackspec import Source
from shared.webhooks.errors import shortened
from shared.webhooks.globs import any_path_selected
from shared.webhooks.results import Push
from shared.webhooks.urls import RepoUrlError, normalise_repo_url


def track_matches(source: Source, push: Push) -> bool:
    """Whether `push` moved the branch of the repository `source` follows.

    Repositories compare by `normalise_repo_url` (any payload URL may match); branches compare
    exactly, as Git branch names are case-sensitive. Path filters are `paths_wanted`'s job.
    """
    try:
        key = normalise_repo_url(source.url)
    except RepoUrlError:
        return False
    return push.branch == source.branch and key in push.repository_keys


def paths_wanted(source: Source, push: Push) -> bool:
    """Whether the push touches a file `source.paths` selects.

    True when the track has no path filter, or when the payload does not list every changed
    file (`changed_paths` is None): a filter never drops a push it cannot judge.
    """
    if not source.paths or push.changed_paths is None:
        return True
    return any_path_selected(sorted(push.changed_paths), source.paths)


def track_wants(source: Source, push: Push) -> bool:
    """`track_matches` and `paths_wanted`: the push should roll out on this track."""
    return track_matches(source, push) and paths_wanted(source, push)


def not_followed(branch: str) -> str:
    """The ignore reason for a push of a followed repository's branch that no track follows;
    the branch is cut, so that no payload makes the answer long."""
    return f"branch '{shortened(branch, 100)}' is not followed by any track"
