"""When a push happened, as far as its signed payload says.

A push's time places it among the pushes of its branch when the chain of commits cannot
(`shared.ordering`): the provider's own push time where it gives one (GitHub
`repository.pushed_at`, Azure DevOps `resource.date`), else the time of the pushed head
commit (GitLab, Gitea and GitHub `commits[].timestamp`, Bitbucket `new.target.date`). Times
are read leniently: a value that is missing or not a time is None, never a refusal of a body
the provider signed.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime


def instant(value: object) -> datetime | None:
    """An ISO 8601 time with its offset, or epoch seconds, in UTC; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value.strip())
        # A time whose UTC falls off the calendar (`0001-01-01T00:00:00+01:00`) overflows.
        return found.astimezone(UTC) if found.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def dig(data: object, *path: str) -> object:
    """`data[path[0]][path[1]]...`, or None where an object or a key is missing."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def listed(value: object) -> list[object]:
    """`value` when it is a list, else an empty one."""
    return list(value) if isinstance(value, list) else []


def commit_times(
    commits: object, *, id_key: str = "id", time_key: str = "timestamp"
) -> dict[str, datetime]:
    """The time of each listed commit by its id (lower-cased), for those that give both."""
    if not isinstance(commits, Sequence) or isinstance(commits, str):
        return {}
    times: dict[str, datetime] = {}
    for commit in commits:
        sha, at = dig(commit, id_key), instant(dig(commit, time_key))
        if isinstance(sha, str) and at is not None:
            times[sha.lower()] = at
    return times
