import pytest
from pydantic import ValidationError

from shared.revision import (
    CommitSha,
    OciRef,
    Revision,
    RevisionError,
    parse_commit,
    revision_matches,
    short_revision,
)
from shared.wire import WireModel

SHA = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"


def test_bare_commit() -> None:
    revision = Revision.parse(SHA)
    assert revision.commit == SHA
    assert revision.branch is None
    assert str(revision) == SHA


def test_azure_branch_slash_sha() -> None:
    revision = Revision.parse(f"main/{SHA}")
    assert (revision.branch, revision.commit) == ("main", SHA)
    assert str(revision) == f"main/{SHA}"


def test_flux_v2_branch_at_sha1() -> None:
    revision = Revision.parse(f"main@sha1:{SHA}")
    assert (revision.branch, revision.commit) == ("main", SHA)


@pytest.mark.parametrize("branch", ["release/2026.11", "feature/a/b", "user@host"])
def test_branches_with_separators_keep_them(branch: str) -> None:
    assert Revision.parse(f"{branch}/{SHA}").branch == branch
    assert Revision.parse(f"{branch}@sha1:{SHA}").branch == branch


def test_commits_are_lower_cased() -> None:
    assert Revision.parse(f"main/{SHA.upper()}").commit == SHA


@pytest.mark.parametrize(
    "text",
    [
        "",
        "main",
        SHA[:7],
        SHA + "0",
        f"/{SHA}",
        f"@sha1:{SHA}",
        f"main@sha256:{SHA}",
        f"main/{SHA[:-1]}g",
        "v1.2.3",
    ],
)
def test_refuses_anything_that_does_not_name_one_commit(text: str) -> None:
    with pytest.raises(RevisionError, match="40-hex commit, 'branch/sha' or 'branch@sha1:sha'"):
        Revision.parse(text)


def test_matches_compares_commits_across_spellings() -> None:
    assert Revision.parse(SHA).matches(f"main@sha1:{SHA}")
    assert Revision.parse(f"dev/{SHA}").matches(Revision.parse(f"main/{SHA}"))
    assert not Revision.parse(SHA).matches("f" * 40)


def test_short_form() -> None:
    assert Revision.parse(SHA).short == "2b7e0c1"


def test_parse_commit_refuses_abbreviations() -> None:
    with pytest.raises(RevisionError, match="40 hex"):
        parse_commit("2b7e0c1")


def test_commit_field_type_names_the_problem() -> None:
    class Pin(WireModel):
        commit: CommitSha

    assert Pin(commit=SHA.upper()).commit == SHA
    with pytest.raises(ValidationError) as error:
        Pin(commit="abc")
    assert error.value.errors()[0]["type"] == "commit"


DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "tag", "digest"),
    [("v1.2.3", "v1.2.3", None), (DIGEST, None, DIGEST), (f"v1@{DIGEST}", "v1", DIGEST)],
)
def test_oci_references(text: str, tag: str | None, digest: str | None) -> None:
    ref = OciRef.parse(text)
    assert (ref.tag, ref.digest) == (tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize("text", ["", "sha256:abc", "v1@sha256:xyz", "-bad", "a b", f"@{DIGEST}x"])
def test_oci_references_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(RevisionError, match="OCI tag"):
        OciRef.parse(text)


@pytest.mark.parametrize(
    ("target", "synced", "matches"),
    [
        (SHA, f"main/{SHA}", True),
        (SHA, f"main@sha1:{SHA}", True),
        (SHA, f"main/{'f' * 40}", False),
        (SHA, None, False),
        (f"v1@{DIGEST}", f"v1@{DIGEST}", True),
        (f"v1@{DIGEST}", f"v1/{DIGEST}", True),
        (f"v1@{DIGEST}", DIGEST, True),
        (f"v1@{DIGEST}", DIGEST.removeprefix("sha256:"), True),
        (f"v1@{DIGEST}", "cd" * 32, False),
        (f"v1@{DIGEST}", f"v1@sha256:{'cd' * 32}", False),
        ("v1", f"v1@{DIGEST}", True),
        ("v1", f"v2@{DIGEST}", False),
        ("v1", f"main/{SHA}", False),
    ],
)
def test_revision_matches_both_kinds_of_source(
    target: str, synced: str | None, matches: bool
) -> None:
    assert revision_matches(target, synced) is matches


@pytest.mark.parametrize(
    ("revision", "short"),
    [
        (SHA, "2b7e0c1"),
        (f"v1.2@{DIGEST}", "v1.2"),
        (DIGEST, DIGEST[:14]),
        ("release-2026.11", "release-2026.11"),
    ],
)
def test_short_revisions(revision: str, short: str) -> None:
    assert short_revision(revision) == short
