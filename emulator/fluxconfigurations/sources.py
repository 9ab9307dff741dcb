"""The source sections of a fluxConfiguration: ``gitRepository``, ``bucket``, ``azureBlob``
and ``ociRepository``, checked and filled with the RP's defaults."""

from __future__ import annotations

import re
from typing import Any

from emulator.fluxconfigurations.checks import Problems, positive_int
from emulator.fluxconfigurations.exceptions import (
    COMMIT_FORMAT_MSG,
    FIELD_NOT_IN_VERSION_MSG,
    REPOSITORY_REF_EMPTY_MSG,
    REQUIRED_MSG,
    TYPE_MSG,
    UNKNOWN_PROPERTY_MSG,
    URL_SCHEME_MSG,
)

HEX_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
GIT_KEYS = {
    "url",
    "timeoutInSeconds",
    "syncIntervalInSeconds",
    "repositoryRef",
    "sshKnownHosts",
    "httpsUser",
    "httpsCACert",
    "localAuthRef",
    "provider",
}
REF_KEYS = ("branch", "tag", "semver", "commit")
SOURCE_DEFAULTS: dict[str, Any] = {"timeoutInSeconds": 600, "syncIntervalInSeconds": 600}
URL_SCHEMES = {
    "gitRepository": ("http://", "https://", "ssh://", "git@"),
    "bucket": ("http://", "https://"),
    "azureBlob": ("https://", "http://"),
    "ociRepository": ("oci://",),
}
GIT_PROVIDER_SINCE = "2024-11-01"


def check_source(section: str, value: Any, api_version: str, problems: Problems) -> dict[str, Any]:
    """The normalised ``section``; an empty one when it is not an object."""
    target = f"properties.{section}"
    if not isinstance(value, dict):
        problems.add(target, TYPE_MSG.format(field=section, expected="an object", actual=value))
        return {}
    result = {**SOURCE_DEFAULTS, **{k: v for k, v in value.items() if v is not None}}
    url = value.get("url")
    if not url:
        problems.add(f"{target}.url", REQUIRED_MSG.format(field=f"{section}.url"))
    elif not isinstance(url, str) or not url.startswith(URL_SCHEMES[section]):
        problems.add(
            f"{target}.url",
            URL_SCHEME_MSG.format(
                field=f"{section}.url", schemes=" or ".join(URL_SCHEMES[section]), value=url
            ),
        )
    for key in ("timeoutInSeconds", "syncIntervalInSeconds"):
        positive_int(value, key, target, problems)
    if section == "gitRepository":
        _git(value, result, api_version, problems)
    elif section == "bucket" and not value.get("bucketName"):
        problems.add(f"{target}.bucketName", REQUIRED_MSG.format(field="bucket.bucketName"))
    elif section == "ociRepository":
        ref = value.get("repositoryRef") or {}
        result["repositoryRef"] = {k: ref.get(k) for k in ("tag", "semver", "digest")}
    return result


def _git(
    value: dict[str, Any], result: dict[str, Any], api_version: str, problems: Problems
) -> None:
    target = "properties.gitRepository"
    for key in value:
        if key not in GIT_KEYS:
            problems.add(
                f"{target}.{key}",
                UNKNOWN_PROPERTY_MSG.format(field=key, model="GitRepositoryDefinition"),
            )
    if "provider" in value and value["provider"] is not None and api_version < GIT_PROVIDER_SINCE:
        problems.add(
            f"{target}.provider",
            FIELD_NOT_IN_VERSION_MSG.format(
                field="gitRepository.provider", api_version=api_version
            ),
        )
    ref = value.get("repositoryRef")
    if not isinstance(ref, dict):
        problems.add(
            f"{target}.repositoryRef", REQUIRED_MSG.format(field="gitRepository.repositoryRef")
        )
        result["repositoryRef"] = dict.fromkeys(REF_KEYS)
        return
    normalised = {key: ref.get(key) for key in REF_KEYS}
    if not any(normalised.values()):
        problems.add(f"{target}.repositoryRef", REPOSITORY_REF_EMPTY_MSG)
    commit = normalised["commit"]
    if commit and (not isinstance(commit, str) or not HEX_COMMIT.match(commit)):
        problems.add(f"{target}.repositoryRef.commit", COMMIT_FORMAT_MSG.format(value=commit))
    result["repositoryRef"] = normalised
