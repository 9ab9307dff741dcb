"""Validate and normalise a fluxConfiguration body the way the RP does.

Every problem is collected before answering, so one 400 lists them all in ``details``; the
normalised properties carry the RP's defaults (``scope: cluster``, ``timeoutInSeconds: 600``,
``repositoryRef`` with all four keys, kustomization ``name`` filled in, ...).
"""

from __future__ import annotations

import re
from typing import Any

from emulator.fluxconfigurations.exceptions import (
    COMMIT_FORMAT_MSG,
    DEPENDS_ON_CYCLE_MSG,
    DEPENDS_ON_SELF_MSG,
    DEPENDS_ON_UNKNOWN_MSG,
    ENUM_MSG,
    FIELD_NOT_IN_VERSION_MSG,
    KUSTOMIZATION_NAME_MSG,
    REPOSITORY_REF_EMPTY_MSG,
    REQUIRED_MSG,
    SOURCE_MISSING_MSG,
    SOURCE_NOT_IN_VERSION_MSG,
    TYPE_MSG,
    UNKNOWN_PROPERTY_MSG,
    URL_SCHEME_MSG,
    InvalidFluxConfiguration,
)

API_VERSIONS = ("2023-05-01", "2024-11-01", "2025-04-01")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
HEX_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
SOURCE_SECTIONS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}
PROPERTY_KEYS = {
    "scope",
    "namespace",
    "sourceKind",
    "suspend",
    "gitRepository",
    "bucket",
    "azureBlob",
    "ociRepository",
    "kustomizations",
    "configurationProtectedSettings",
    "waitForReconciliation",
    "reconciliationWaitDuration",
}
READ_ONLY_KEYS = {
    "statuses",
    "repositoryPublicKey",
    "sourceSyncedCommitId",
    "sourceUpdatedAt",
    "statusUpdatedAt",
    "complianceState",
    "provisioningState",
    "errorMessage",
}
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
KUSTOMIZATION_KEYS = {
    "name",
    "path",
    "dependsOn",
    "timeoutInSeconds",
    "syncIntervalInSeconds",
    "retryIntervalInSeconds",
    "prune",
    "force",
    "wait",
    "postBuild",
}
KUSTOMIZATION_DEFAULTS: dict[str, Any] = {
    "path": "",
    "dependsOn": [],
    "timeoutInSeconds": 600,
    "syncIntervalInSeconds": 600,
    "retryIntervalInSeconds": None,
    "prune": False,
    "force": False,
    "wait": True,
}
SOURCE_DEFAULTS: dict[str, Any] = {"timeoutInSeconds": 600, "syncIntervalInSeconds": 600}
URL_SCHEMES = {
    "gitRepository": ("http://", "https://", "ssh://", "git@"),
    "bucket": ("http://", "https://"),
    "azureBlob": ("https://", "http://"),
    "ociRepository": ("oci://",),
}


OCI_SINCE = "2024-11-01"
"""``OCIRepository`` / ``ociRepository`` are in the stable 2024-11-01 fluxConfigurations spec."""


def source_kinds(api_version: str) -> tuple[str, ...]:
    kinds = ("GitRepository", "Bucket", "AzureBlob")
    return (*kinds, "OCIRepository") if api_version >= OCI_SINCE else kinds


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, target: str, message: str) -> None:
        self.items.append((target, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidFluxConfiguration.from_problems(self.items)


def validate_properties(properties: Any, api_version: str) -> dict[str, Any]:
    """The normalised ``properties`` of a PUT (or of a PATCH after merging), or a 400."""
    problems = _Problems()
    if not isinstance(properties, dict):
        problems.add("properties", REQUIRED_MSG.format(field="properties"))
        problems.raise_if_any()
    result: dict[str, Any] = {}
    for key in properties:
        if key not in PROPERTY_KEYS and key not in READ_ONLY_KEYS:
            problems.add(
                f"properties.{key}",
                UNKNOWN_PROPERTY_MSG.format(field=key, model="FluxConfigurationProperties"),
            )
    result["scope"] = _enum(properties, "scope", ("cluster", "namespace"), "cluster", problems)
    namespace = properties.get("namespace") or "default"
    if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
        problems.add(
            "properties.namespace",
            TYPE_MSG.format(field="namespace", expected="a DNS-1123 label", actual=namespace),
        )
    result["namespace"] = namespace
    kinds = source_kinds(api_version)
    kind = properties.get("sourceKind") or "GitRepository"
    if kind not in SOURCE_SECTIONS:
        problems.add(
            "properties.sourceKind",
            ENUM_MSG.format(field="sourceKind", allowed=", ".join(kinds), value=kind),
        )
    elif kind not in kinds:
        problems.add(
            "properties.sourceKind",
            SOURCE_NOT_IN_VERSION_MSG.format(kind=kind, api_version=api_version),
        )
    result["sourceKind"] = kind
    result["suspend"] = _bool(properties, "suspend", False, problems)
    for section_kind, section in SOURCE_SECTIONS.items():
        value = properties.get(section)
        if value is None:
            result[section] = None
            continue
        if section_kind not in kinds:
            problems.add(
                f"properties.{section}",
                FIELD_NOT_IN_VERSION_MSG.format(field=section, api_version=api_version),
            )
        result[section] = _source(section, value, api_version, problems)
    required = SOURCE_SECTIONS.get(kind)
    if required and result.get(required) is None and kind in kinds:
        problems.add(f"properties.{required}", SOURCE_MISSING_MSG.format(kind=kind, field=required))
    result["kustomizations"] = _kustomizations(properties.get("kustomizations"), problems)
    protected = properties.get("configurationProtectedSettings")
    if isinstance(protected, dict):
        # Write-only secrets: a null value sets nothing (and in a PATCH removes the key).
        protected = {key: value for key, value in protected.items() if value is not None}
    if protected is not None and not (
        isinstance(protected, dict) and all(isinstance(v, str) for v in protected.values())
    ):
        problems.add(
            "properties.configurationProtectedSettings",
            TYPE_MSG.format(
                field="configurationProtectedSettings",
                expected="a map of strings",
                actual=type(protected).__name__,
            ),
        )
    result["configurationProtectedSettings"] = protected or {}
    result["waitForReconciliation"] = properties.get("waitForReconciliation")
    result["reconciliationWaitDuration"] = properties.get("reconciliationWaitDuration")
    problems.raise_if_any()
    return result


def _enum(
    data: dict[str, Any], key: str, allowed: tuple[str, ...], default: str, problems: _Problems
) -> str:
    value = data.get(key)
    if value is None:
        return default
    for option in allowed:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    problems.add(
        f"properties.{key}", ENUM_MSG.format(field=key, allowed=", ".join(allowed), value=value)
    )
    return default


def _bool(data: dict[str, Any], key: str, default: bool, problems: _Problems) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(
            f"properties.{key}",
            TYPE_MSG.format(field=key, expected="a boolean", actual=type(value).__name__),
        )
        return default
    return value


def _positive_int(data: dict[str, Any], key: str, target: str, problems: _Problems) -> None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        problems.add(
            f"{target}.{key}",
            TYPE_MSG.format(field=key, expected="a positive integer", actual=value),
        )


def _source(section: str, value: Any, api_version: str, problems: _Problems) -> dict[str, Any]:
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
        _positive_int(value, key, target, problems)
    if section == "gitRepository":
        _git(value, result, api_version, problems)
    elif section == "bucket" and not value.get("bucketName"):
        problems.add(f"{target}.bucketName", REQUIRED_MSG.format(field="bucket.bucketName"))
    elif section == "ociRepository":
        ref = value.get("repositoryRef") or {}
        result["repositoryRef"] = {k: ref.get(k) for k in ("tag", "semver", "digest")}
    return result


def _git(
    value: dict[str, Any], result: dict[str, Any], api_version: str, problems: _Problems
) -> None:
    target = "properties.gitRepository"
    for key in value:
        if key not in GIT_KEYS:
            problems.add(
                f"{target}.{key}",
                UNKNOWN_PROPERTY_MSG.format(field=key, model="GitRepositoryDefinition"),
            )
    if "provider" in value and value["provider"] is not None and api_version < "2024-11-01":
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


def _kustomizations(value: Any, problems: _Problems) -> dict[str, dict[str, Any]]:
    target = "properties.kustomizations"
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(
            target, TYPE_MSG.format(field="kustomizations", expected="a map", actual=value)
        )
        return {}
    result: dict[str, dict[str, Any]] = {}
    for name, body in value.items():
        where = f"{target}.{name}"
        if not DNS_LABEL.match(name):
            problems.add(where, KUSTOMIZATION_NAME_MSG.format(name=name))
        if not isinstance(body, dict):
            problems.add(where, TYPE_MSG.format(field=name, expected="an object", actual=body))
            continue
        for key in body:
            if key not in KUSTOMIZATION_KEYS:
                problems.add(
                    f"{where}.{key}",
                    UNKNOWN_PROPERTY_MSG.format(field=key, model="KustomizationDefinition"),
                )
        for key in ("timeoutInSeconds", "syncIntervalInSeconds", "retryIntervalInSeconds"):
            _positive_int(body, key, where, problems)
        merged = {**KUSTOMIZATION_DEFAULTS, **{k: v for k, v in body.items() if v is not None}}
        merged["name"] = name
        merged["dependsOn"] = list(merged.get("dependsOn") or [])
        result[name] = merged
    for name, body in result.items():
        for dependency in body["dependsOn"]:
            if dependency == name:
                problems.add(f"{target}.{name}.dependsOn", DEPENDS_ON_SELF_MSG.format(name=name))
            elif dependency not in result:
                problems.add(
                    f"{target}.{name}.dependsOn",
                    DEPENDS_ON_UNKNOWN_MSG.format(name=name, dependency=dependency),
                )
    cycle = find_cycle(result)
    if cycle:
        problems.add(f"{target}", DEPENDS_ON_CYCLE_MSG.format(cycle=" -> ".join(cycle)))
    return result


def find_cycle(kustomizations: dict[str, dict[str, Any]]) -> list[str] | None:
    """A dependency cycle among kustomizations, as a path of names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dependency in kustomizations[name]["dependsOn"]:
            if dependency == name or dependency not in kustomizations:
                continue
            if state.get(dependency) == 1:
                return [*stack[stack.index(dependency) :], dependency]
            if dependency not in state:
                found = visit(dependency)
                if found:
                    return found
        stack.pop()
        state[name] = 2
        return None

    for name in kustomizations:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def dependency_order(kustomizations: dict[str, dict[str, Any]]) -> list[str]:
    """Kustomization names with dependencies first (input must be acyclic)."""
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dependency in kustomizations[name]["dependsOn"]:
            if dependency in kustomizations:
                visit(dependency)
        ordered.append(name)

    for name in kustomizations:
        visit(name)
    return ordered


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: ``null`` removes a key, objects merge, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
