"""One canonical key per Git repository, whatever spelling a track spec or a webhook uses.

`normalise_repo_url` turns every common spelling of a repository into `host/path`, lower-cased:

- `https://github.com/Org/Repo.git`, `http://…`, `https://user@github.com:443/org/repo/`,
  `ssh://git@github.com:22/org/repo.git`, `git@github.com:org/repo.git` → `github.com/org/repo`
- `https://dev.azure.com/org/project/_git/repo`, `https://org@dev.azure.com/…`,
  `https://org.visualstudio.com/[DefaultCollection/]project/_git/repo`,
  `git@ssh.dev.azure.com:v3/org/project/repo`, `…@vs-ssh.visualstudio.com:v3/org/project/repo`
  → `dev.azure.com/org/project/_git/repo`
- `https://dev.azure.com/org/_git/repo` (a project named like its repository) and
  `https://dev.azure.com/org/DefaultCollection/_git/repo` → `dev.azure.com/org/repo/_git/repo`

Rules: the scheme, user info, port, query and fragment are dropped; percent-escapes are decoded;
repeated and trailing slashes and one trailing `.git` are removed; everything is lower-cased
(GitHub, GitLab, Gitea, Bitbucket and Azure DevOps resolve repository paths case-insensitively).
Ports are dropped even when not the default, so a self-hosted server's ssh (`:2222`) and https
(`:3000`) URLs give the same key. A key normalises to itself.
"""

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit


class RepoUrlError(ValueError):
    """Text that does not name a Git repository."""


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_SCP = re.compile(r"^(?:[^@/:\s]+@)?([^@/:\s]+):(?!//)(.+)$")
_SCHEMES = {"http", "https", "ssh", "git", "git+ssh", "ssh+git"}
_AZURE_SSH_HOSTS = {"ssh.dev.azure.com", "vs-ssh.visualstudio.com"}
_VISUALSTUDIO = re.compile(r"^([a-z0-9][a-z0-9-]*)\.visualstudio\.com$")


def normalise_repo_url(url: str) -> str:
    """The canonical `host/path` key of a repository URL; `RepoUrlError` when it names none."""
    if not isinstance(url, str):
        raise RepoUrlError(f"a repository URL must be text, got {type(url).__name__}")
    text = url.strip()
    host, path = _split(text)
    host = host.lower().rstrip(".")
    if ":" in host:
        host = f"[{host.strip('[]')}]"
    segments = [s for s in unquote(path).lower().split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
        if not segments[-1]:
            segments.pop()
    if not host or not segments or any(c.isspace() for c in host):
        raise RepoUrlError(f"'{_shown(text)}' is not a repository URL: it needs a host and a path")
    host, segments = _azure_devops(host, segments)
    return "/".join([host, *segments])


def repository_keys(urls: Iterable[str]) -> frozenset[str]:
    """The canonical keys of `urls`, skipping any that are not repository URLs."""
    keys = set()
    for url in urls:
        try:
            keys.add(normalise_repo_url(url))
        except RepoUrlError:
            continue
    return frozenset(keys)


def _split(text: str) -> tuple[str, str]:
    scheme = _SCHEME.match(text)
    if scheme:
        if scheme.group(1).lower() not in _SCHEMES:
            raise RepoUrlError(f"'{_shown(text)}' is not a Git URL: unsupported scheme")
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
        except ValueError as error:
            raise RepoUrlError(f"'{_shown(text)}' is not a Git URL: {error}") from None
        return host, parts.path
    scp = None if text.startswith("[") else _SCP.match(text)
    if scp:
        return scp.group(1), scp.group(2)
    host, _, path = text.partition("/")
    host = host.rpartition("@")[2]
    if host.startswith("["):
        return host.partition("]")[0] + "]", path
    return host.partition(":")[0], path


def _azure_devops(host: str, segments: list[str]) -> tuple[str, list[str]]:
    """Azure DevOps' many spellings, all as `dev.azure.com/org/project/_git/repo`."""
    if host in _AZURE_SSH_HOSTS:
        if len(segments) == 4 and segments[0] == "v3":
            _, org, project, repo = segments
            return "dev.azure.com", [org, project, "_git", repo]
        return host, segments
    legacy = _VISUALSTUDIO.match(host)
    if legacy:
        rest = segments[1:] if segments[0] == "defaultcollection" else segments
        path = _git_path([legacy.group(1), *rest])
        return ("dev.azure.com", path) if path else (host, segments)
    if host == "dev.azure.com":
        if len(segments) > 1 and segments[1] == "defaultcollection":
            segments = [segments[0], *segments[2:]]
        return host, _git_path(segments) or segments
    return host, segments


def _git_path(path: list[str]) -> list[str] | None:
    """`org/project/_git/repo`, reading `org/_git/repo` as the project named like the repo."""
    if len(path) == 3 and path[1] == "_git":
        org, _, repo = path
        return [org, repo, "_git", repo]
    if len(path) == 4 and path[2] == "_git":
        return path
    return None


def _shown(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."
