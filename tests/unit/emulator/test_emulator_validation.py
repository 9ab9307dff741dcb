"""fluxConfiguration bodies are validated like the RP does, with every problem in details."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.arm import merge_patch
from emulator.fluxconfigurations.exceptions import InvalidFluxConfiguration
from emulator.fluxconfigurations.validation import validate_properties


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scope": "cluster",
        "namespace": "flux-system",
        "sourceKind": "GitRepository",
        "gitRepository": {
            "url": "https://github.com/org/fleet",
            "repositoryRef": {"branch": "main"},
        },
        "kustomizations": {"infra": {"path": "./infra"}, "apps": {"dependsOn": ["infra"]}},
    }
    base.update(overrides)
    return base


def problems(properties: Any, api_version: str = "2023-05-01") -> list[str]:
    with pytest.raises(InvalidFluxConfiguration) as caught:
        validate_properties(properties, api_version)
    assert caught.value.status == 400
    assert caught.value.code == "BadRequest"
    return [detail["target"] for detail in caught.value.details]


def test_defaults_are_filled_in() -> None:
    """The stored spec carries the RP's defaults, as GET returns them."""
    spec = validate_properties(body(), "2023-05-01")
    assert spec["suspend"] is False
    assert spec["gitRepository"]["timeoutInSeconds"] == 600
    assert spec["gitRepository"]["repositoryRef"] == {
        "branch": "main",
        "tag": None,
        "semver": None,
        "commit": None,
    }
    apps = spec["kustomizations"]["apps"]
    assert apps["name"] == "apps"
    assert apps["prune"] is False and apps["wait"] is True and apps["path"] == ""


def test_git_repository_needs_url_and_ref() -> None:
    assert problems(body(gitRepository={})) == [
        "properties.gitRepository.url",
        "properties.gitRepository.repositoryRef",
    ]
    assert problems(body(gitRepository={"url": "https://x", "repositoryRef": {}})) == [
        "properties.gitRepository.repositoryRef"
    ]


def test_source_section_must_match_kind() -> None:
    assert problems(body(gitRepository=None)) == ["properties.gitRepository"]


def test_depends_on_must_name_existing_kustomizations() -> None:
    targets = problems(body(kustomizations={"apps": {"dependsOn": ["infra"]}}))
    assert targets == ["properties.kustomizations.apps.dependsOn"]


def test_dependency_cycle_is_rejected() -> None:
    cycle = {"a": {"dependsOn": ["b"]}, "b": {"dependsOn": ["a"]}}
    assert problems(body(kustomizations=cycle)) == ["properties.kustomizations"]


def test_all_problems_come_back_together() -> None:
    targets = problems(
        body(scope="galaxy", namespace="Not_A_Label", gitRepository={"url": "ftp://x"})
    )
    assert targets == [
        "properties.scope",
        "properties.namespace",
        "properties.gitRepository.url",
        "properties.gitRepository.repositoryRef",
    ]


def test_oci_repository_from_2024_11_01() -> None:
    """OCIRepository is in the stable 2024-11-01 spec; 2023-05-01 does not know it."""
    oci = body(sourceKind="OCIRepository", gitRepository=None, ociRepository={"url": "oci://r/a"})
    assert problems(oci, "2023-05-01") == ["properties.sourceKind", "properties.ociRepository"]
    assert validate_properties(oci, "2024-11-01")["sourceKind"] == "OCIRepository"
    assert validate_properties(oci, "2025-04-01")["sourceKind"] == "OCIRepository"


def test_protected_settings_must_be_strings_and_nulls_set_nothing() -> None:
    spec = validate_properties(
        body(configurationProtectedSettings={"sshPrivateKey": "a2V5", "httpsKey": None}),
        "2023-05-01",
    )
    assert spec["configurationProtectedSettings"] == {"sshPrivateKey": "a2V5"}
    assert problems(body(configurationProtectedSettings={"k": 1})) == [
        "properties.configurationProtectedSettings"
    ]
    assert problems(body(configurationProtectedSettings="a2V5")) == [
        "properties.configurationProtectedSettings"
    ]


def test_git_provider_needs_2024_11_01() -> None:
    git = {"url": "https://x", "repositoryRef": {"branch": "main"}, "provider": "GitHub"}
    assert problems(body(gitRepository=git)) == ["properties.gitRepository.provider"]
    assert validate_properties(body(gitRepository=git), "2024-11-01")["gitRepository"]["provider"]


def test_unknown_property_is_named() -> None:
    assert problems(body(gitRepositry={"url": "https://x"})) == ["properties.gitRepositry"]


def test_commit_must_be_hex() -> None:
    git = {"url": "https://x", "repositoryRef": {"branch": "main", "commit": "not-a-sha"}}
    assert problems(body(gitRepository=git)) == ["properties.gitRepository.repositoryRef.commit"]


def test_merge_patch_null_removes_and_objects_merge() -> None:
    spec = validate_properties(body(), "2023-05-01")
    patched = merge_patch(
        spec,
        {
            "kustomizations": {"apps": None, "infra": {"prune": True}},
            "gitRepository": {"repositoryRef": {"commit": "abc1234"}},
        },
    )
    assert list(patched["kustomizations"]) == ["infra"]
    assert patched["kustomizations"]["infra"]["prune"] is True
    assert patched["kustomizations"]["infra"]["path"] == "./infra"
    assert patched["gitRepository"]["repositoryRef"]["branch"] == "main"
    assert patched["gitRepository"]["repositoryRef"]["commit"] == "abc1234"
