"""Which tracks a push feeds: repository and branch, then `source.paths` globs."""

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webhooks_support import (
    GITHUB,
    SECRET,
    dumps,
    github_push,
    load,
    raw,
    sign_github,
    sign_gitlab,
)

from shared.trackspec import Source
from shared.webhooks import (
    Push,
    any_path_selected,
    compile_glob,
    parse_webhook,
    paths_wanted,
    track_matches,
    track_wants,
)


def push(
    urls: tuple[str, ...] = ("https://github.com/contoso/fleet-config.git",),
    branch: str = "main",
    changed: frozenset[str] | None = frozenset({"clusters/prod/app.yaml"}),
) -> Push:
    """A parsed GitHub push, of `branch` in the repository at `urls`, that changed `changed`."""
    parsed = GITHUB.push(github_push())
    return replace(parsed, repository_urls=urls, branch=branch, changed_paths=changed)


def source(
    url: str = "https://github.com/contoso/fleet-config", branch: str = "main", **extra: object
) -> Source:
    return Source.model_validate({"url": url, "branch": branch, **extra})


GLOBS = [
    # pattern, path, selected
    ("clusters/**", "clusters/prod/app.yaml", True),
    ("clusters/**", "clusters/app.yaml", True),
    ("clusters/**", "clusters", False),
    ("clusters/**", "apps/clusters/x.yaml", False),
    ("clusters/**", "clustersX/a.yaml", False),
    ("/clusters/**", "clusters/prod/app.yaml", True),
    ("./clusters/**", "clusters/prod/app.yaml", True),
    ("clusters", "clusters/prod/app.yaml", True),
    ("clusters/", "clusters/prod/app.yaml", True),
    ("clusters/", "clusters", False),
    ("clusters", "apps/clusters/a.yaml", True),
    ("/clusters", "apps/clusters/a.yaml", False),
    ("./clusters", "apps/clusters/a.yaml", False),
    ("clusters/*", "clusters/prod/app.yaml", True),
    ("clusters/*.yaml", "clusters/app.yaml", True),
    ("clusters/*.yaml", "clusters/prod/app.yaml", False),
    ("*.yaml", "clusters/prod/app.yaml", True),
    ("*.yaml", "README.md", False),
    ("**/kustomization.yaml", "kustomization.yaml", True),
    ("**/kustomization.yaml", "a/b/c/kustomization.yaml", True),
    ("apps/**/prod/*.yaml", "apps/prod/x.yaml", True),
    ("apps/**/prod/*.yaml", "apps/a/b/prod/x.yaml", True),
    ("apps/**/prod/*.yaml", "apps/a/b/prod/sub/x.yaml", False),
    ("apps/**/prod/**", "apps/a/b/prod/sub/x.yaml", True),
    ("apps/**/prod/*.yaml", "apps/a/b/staging/x.yaml", False),
    ("apps/**/prod/*.yaml", "other/apps/prod/x.yaml", False),
    ("apps/a**b/x", "apps/aXYb/x", True),
    ("apps/a**b/x", "apps/aX/Yb/x", False),
    ("clusters/prod-?/*", "clusters/prod-1/a.yaml", True),
    ("clusters/prod-?/*", "clusters/prod-12/a.yaml", False),
    ("clusters/[ab]*/x", "clusters/alpha/x", True),
    ("clusters/[!ab]*/x", "clusters/alpha/x", False),
    ("clusters/[!ab]*/x", "clusters/zeta/x", True),
    ("clusters/[a-c]/x", "clusters/b/x", True),
    ("clusters/[a-c]/x", "clusters/d/x", False),
    ("clusters/[/x", "clusters/[/x", True),
    ("clusters/[z-a]/x", "clusters/[z-a]/x", True),
    (r"clusters/\*/x", "clusters/*/x", True),
    (r"clusters/\*/x", "clusters/a/x", False),
    ("Clusters/**", "clusters/a.yaml", False),
    ("**", "anything/at/all", True),
    ("a.b", "aXb", False),
    ("", "a", False),
    ("/", "a", False),
]


@pytest.mark.parametrize(("pattern", "path", "selected"), GLOBS)
def test_glob_semantics(pattern: str, path: str, selected: bool) -> None:
    assert any_path_selected([path], [pattern]) is selected


def test_exclusions_and_the_last_match_wins() -> None:
    patterns = ["clusters/**", "!clusters/**/README.md", "clusters/prod/README.md"]
    assert any_path_selected(["clusters/a/app.yaml"], patterns)
    assert not any_path_selected(["clusters/a/README.md"], patterns)
    assert any_path_selected(["clusters/prod/README.md"], patterns)
    assert not any_path_selected(["apps/x.yaml"], patterns)


def test_only_exclusions_start_from_everything() -> None:
    assert any_path_selected(["clusters/a.yaml"], ["!docs/**"])
    assert not any_path_selected(["docs/a.md"], ["!docs/**"])


def test_no_patterns_select_everything_and_no_paths_select_nothing() -> None:
    assert any_path_selected(["x"], [])
    assert not any_path_selected([], ["**"])


def test_leading_slashes_on_changed_paths_are_ignored() -> None:
    assert any_path_selected(["/clusters/a.yaml", "./x"], ["clusters/**"])


@given(st.text(max_size=40), st.text(max_size=60))
def test_any_pattern_compiles_and_matches_without_raising(pattern: str, path: str) -> None:
    glob = compile_glob(pattern)
    assert isinstance(glob.matches(path), bool)


PART = st.from_regex(r"[a-z0-9._-]{1,8}", fullmatch=True).filter(lambda p: p not in {".", ".."})


@given(st.lists(PART, min_size=1, max_size=5))
def test_literal_patterns_match_their_own_path(parts: list[str]) -> None:
    path = "/".join(parts)
    escaped = re.sub(r"([*?\[\\])", r"\\\1", path)
    assert any_path_selected([path], ["/" + escaped])
    assert any_path_selected([path], [parts[0] + "/**"]) is (len(parts) > 1)


def test_track_matches_by_repository_and_branch() -> None:
    assert track_matches(source(), push())
    assert track_matches(source("git@github.com:Contoso/Fleet-Config.git"), push())
    assert not track_matches(source("https://github.com/contoso/other"), push())
    assert not track_matches(source(), push(branch="Main"))
    assert not track_matches(source(), push(branch="release"))


def test_any_payload_url_can_match() -> None:
    urls = ("https://github.com/contoso/fleet-config.git", "git@github.com:contoso/fleet-config")
    ssh_source = source("ssh://git@github.com/contoso/fleet-config.git")
    assert track_matches(ssh_source, push(urls=urls))
    assert not track_matches(source(), push(urls=("not a url",)))


def test_path_filters() -> None:
    wanted = source(paths=["clusters/**"])
    other = source(paths=["apps/**"])
    assert paths_wanted(wanted, push())
    assert not paths_wanted(other, push())
    assert track_wants(wanted, push())
    assert not track_wants(other, push())
    assert paths_wanted(source(), push())  # no filter


def test_a_push_without_a_full_file_list_always_passes_the_filter() -> None:
    assert paths_wanted(source(paths=["apps/**"]), push(changed=None))


def test_the_partial_gitlab_commit_list_is_not_dropped_by_a_path_filter() -> None:
    body = raw("gitlab-push.json")  # 2 commits listed of 4: files of the other 2 are unknown
    result = parse_webhook("gitlab", sign_gitlab(body), body, SECRET)
    assert isinstance(result, Push)
    track = source(
        "http://example.com/mike/diaspora.git", branch="master", paths=["does/not/match/**"]
    )
    assert result.changed_paths is None
    assert track_wants(track, result)


def test_a_complete_gitlab_commit_list_is_filtered() -> None:
    data = load("gitlab-push.json")
    data["total_commits_count"] = len(data["commits"])
    body = dumps(data)
    result = parse_webhook("gitlab", sign_gitlab(body), body, SECRET)
    assert isinstance(result, Push)
    url = "git@example.com:mike/diaspora.git"
    assert track_wants(source(url, branch="master", paths=["app/**"]), result)
    assert not track_wants(source(url, branch="master", paths=["clusters/**"]), result)


def test_a_github_push_of_many_commits_is_not_dropped_by_a_path_filter() -> None:
    body = dumps(github_push(files=[["docs/a.md"]] * 20))
    result = parse_webhook("github", sign_github(body), body, SECRET)
    assert isinstance(result, Push)
    track = source("https://github.com/Codertocat/Hello-World", branch="main", paths=["x/**"])
    assert track_wants(track, result)
