"""Repository URL normalisation: every spelling of one repository gives one key."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks import RepoUrlError, normalise_repo_url

TABLE = [
    # GitHub and other hosts: https, http, ssh, scp-like, .git, slashes, case, ports, user info
    ("https://github.com/contoso/fleet-config", "github.com/contoso/fleet-config"),
    ("https://github.com/Contoso/Fleet-Config.git", "github.com/contoso/fleet-config"),
    ("http://github.com/contoso/fleet-config/", "github.com/contoso/fleet-config"),
    ("https://GitHub.com:443/contoso/fleet-config.git/", "github.com/contoso/fleet-config"),
    ("https://user:token@github.com/contoso/fleet-config", "github.com/contoso/fleet-config"),
    ("git@github.com:contoso/fleet-config.git", "github.com/contoso/fleet-config"),
    ("git@github.com:/contoso/fleet-config.git", "github.com/contoso/fleet-config"),
    ("ssh://git@github.com/contoso/fleet-config.git", "github.com/contoso/fleet-config"),
    ("ssh://git@github.com:22/contoso/fleet-config", "github.com/contoso/fleet-config"),
    ("git://github.com/contoso/fleet-config.git", "github.com/contoso/fleet-config"),
    ("  https://github.com//contoso//fleet-config  ", "github.com/contoso/fleet-config"),
    ("https://github.com/contoso/fleet-config?tab=readme#top", "github.com/contoso/fleet-config"),
    ("github.com/contoso/fleet-config", "github.com/contoso/fleet-config"),
    # self-hosted: ports dropped so ssh and https of one server agree
    ("ssh://gitea@localhost:2222/gitea/webhooks.git", "localhost/gitea/webhooks"),
    ("http://localhost:3000/gitea/webhooks.git", "localhost/gitea/webhooks"),
    ("https://gitlab.example.com/group/sub/project.git", "gitlab.example.com/group/sub/project"),
    ("git@gitlab.example.com:group/sub/project.git", "gitlab.example.com/group/sub/project"),
    ("https://bitbucket.org/contoso/fleet-config", "bitbucket.org/contoso/fleet-config"),
    ("https://ada@bitbucket.org/contoso/fleet-config.git", "bitbucket.org/contoso/fleet-config"),
    # Azure DevOps
    ("https://dev.azure.com/org/project/_git/repo", "dev.azure.com/org/project/_git/repo"),
    ("https://org@dev.azure.com/org/project/_git/repo", "dev.azure.com/org/project/_git/repo"),
    ("https://dev.azure.com/Org/Project/_git/Repo/", "dev.azure.com/org/project/_git/repo"),
    ("https://dev.azure.com/org/My%20Project/_git/repo", "dev.azure.com/org/my project/_git/repo"),
    ("https://org.visualstudio.com/project/_git/repo", "dev.azure.com/org/project/_git/repo"),
    (
        "https://org.visualstudio.com/DefaultCollection/project/_git/repo",
        "dev.azure.com/org/project/_git/repo",
    ),
    ("git@ssh.dev.azure.com:v3/org/project/repo", "dev.azure.com/org/project/_git/repo"),
    ("ssh://git@ssh.dev.azure.com/v3/org/project/repo", "dev.azure.com/org/project/_git/repo"),
    ("git@ssh.dev.azure.com:v3/org/My%20Project/repo", "dev.azure.com/org/my project/_git/repo"),
    ("org@vs-ssh.visualstudio.com:v3/org/project/repo", "dev.azure.com/org/project/_git/repo"),
    ("https://dev.azure.com/org/_git/repo", "dev.azure.com/org/repo/_git/repo"),
    ("https://dev.azure.com/org/DefaultCollection/_git/repo", "dev.azure.com/org/repo/_git/repo"),
    (
        "https://fabrikam-fiber.visualstudio.com/DefaultCollection/_git/Fabrikam-Fiber-Git",
        "dev.azure.com/fabrikam-fiber/fabrikam-fiber-git/_git/fabrikam-fiber-git",
    ),
    # IPv6 hosts keep their brackets
    ("https://[::1]:8443/org/repo.git", "[::1]/org/repo"),
]


@pytest.mark.parametrize(("url", "key"), TABLE)
def test_normalisation_table(url: str, key: str) -> None:
    assert normalise_repo_url(url) == key


@pytest.mark.parametrize(("url", "key"), TABLE)
def test_keys_normalise_to_themselves(url: str, key: str) -> None:
    assert normalise_repo_url(key) == key


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://github.com/contoso/fleet-config", "https://github.com/contoso/fleet"),
        ("https://github.com/contoso/fleet-config", "https://gitlab.com/contoso/fleet-config"),
        ("https://github.com/a/b", "https://github.com/a/b/c"),
        ("https://dev.azure.com/org/p1/_git/repo", "https://dev.azure.com/org/p2/_git/repo"),
    ],
)
def test_different_repositories_stay_different(one: str, other: str) -> None:
    assert normalise_repo_url(one) != normalise_repo_url(other)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "https://github.com",
        "https://github.com/",
        "https://github.com/.git",
        "file:///srv/git/repo.git",
        "ftp://example.com/repo.git",
        "/srv/git/repo.git",
        "https:///org/repo",
        "https://[::1/org/repo",
    ],
)
def test_not_repository_urls(url: str) -> None:
    with pytest.raises(RepoUrlError):
        normalise_repo_url(url)


HOST = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,2}", fullmatch=True)
SEGMENT = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}", fullmatch=True).filter(
    lambda s: s.lower() != "defaultcollection" and not s.lower().endswith(".git")
)


@given(
    host=HOST,
    path=st.lists(SEGMENT, min_size=2, max_size=4),
    form=st.sampled_from(["https", "http", "ssh", "scp", "bare"]),
    dotgit=st.booleans(),
    slash=st.booleans(),
    port=st.sampled_from(["", ":22", ":443", ":8443"]),
    user=st.sampled_from(["", "git@", "user:pw@"]),
)
def test_every_spelling_of_one_repository_gives_one_key(
    host: str, path: list[str], form: str, dotgit: bool, slash: bool, port: str, user: str
) -> None:
    tail = "/".join(path) + (".git" if dotgit else "") + ("/" if slash else "")
    spelled = {
        "https": f"https://{user}{host}{port}/{tail}",
        "http": f"http://{user}{host.upper()}{port}/{tail}",
        "ssh": f"ssh://{user or 'git@'}{host}{port}/{tail}",
        "scp": f"{user.rstrip('@').partition(':')[0] + '@' if user else ''}{host}:{tail}",
        "bare": f"{host}/{tail}",
    }[form]
    key = normalise_repo_url(spelled)
    assert key == f"{host}/{'/'.join(path).lower()}"
    assert normalise_repo_url(key) == key


@given(st.text(max_size=200))
def test_any_text_gives_a_key_or_a_repo_url_error(text: str) -> None:
    try:
        key = normalise_repo_url(text)
    except RepoUrlError:
        return
    assert key == key.lower()
    assert "/" in key
