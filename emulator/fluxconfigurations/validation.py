"""Validate and normalise a fluxConfiguration body the way the RP does.

Every problem is collected before answering, so one 400 lists them all in ``details``; the
normalised properties carry the RP's defaults (``scope: cluster``, ``timeoutInSeconds: 600``,
``repositoryRef`` with all four keys, kustomization ``name`` filled in, ...). The source
sections are checked in :mod:`.sources`, the kustomizations in :mod:`.kustomizations`.
"""

from __future__ import annotations

from typing import Any

from emulator.fluxconfigurations.checks import DNS_LABEL, Problems, bool_value, enum_value
from emulator.fluxconfigurations.exceptions import (
    ENUM_MSG,
    FIELD_NOT_IN_VERSION_MSG,
    REQUIRED_MSG,
    SOURCE_MISSING_MSG,
    SOURCE_NOT_IN_VERSION_MSG,
    TYPE_MSG,
    UNKNOWN_PROPERTY_MSG,
)
from emulator.fluxconfigurations.kustomizations import check_kustomizations
from emulator.fluxconfigurations.sources import check_source

API_VERSIONS = ("2023-05-01", "2024-11-01", "2025-04-01")
SOURCE_SECTIONS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}
SCOPES = ("cluster", "namespace")
PROPERTY_DEFAULTS: dict[str, Any] = {
    "scope": "cluster",
    "namespace": "default",
    "sourceKind": "GitRepository",
    "suspend": False,
    **dict.fromkeys(SOURCE_SECTIONS.values()),
    "kustomizations": {},
    "configurationProtectedSettings": {},
    "waitForReconciliation": None,
    "reconciliationWaitDuration": None,
}
"""The writable properties, with what the RP stores when a body leaves one out."""
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
"""Status properties: a body may carry them back (as a GET returned them); they are ignored."""

OCI_SINCE = "2024-11-01"
"""``OCIRepository`` / ``ociRepository`` are in the stable 2024-11-01 fluxConfigurations spec."""


def source_kinds(api_version: str) -> tuple[str, ...]:
    kinds = ("GitRepository", "Bucket", "AzureBlob")
    return (*kinds, "OCIRepository") if api_version >= OCI_SINCE else kinds


def validate_properties(properties: Any, api_version: str) -> dict[str, Any]:
    """The normalised ``properties`` of a PUT (or of a PATCH after merging), or a 400."""
    problems = Problems()
    if not isinstance(properties, dict):
        problems.add("properties", REQUIRED_MSG.format(field="properties"))
        problems.raise_if_any()
    result: dict[str, Any] = {}
    for key in properties:
        if key not in PROPERTY_DEFAULTS and key not in READ_ONLY_KEYS:
            problems.add(
                f"properties.{key}",
                UNKNOWN_PROPERTY_MSG.format(field=key, model="FluxConfigurationProperties"),
            )
    result["scope"] = enum_value(properties, "scope", SCOPES, PROPERTY_DEFAULTS["scope"], problems)
    namespace = properties.get("namespace") or PROPERTY_DEFAULTS["namespace"]
    if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
        problems.add(
            "properties.namespace",
            TYPE_MSG.format(field="namespace", expected="a DNS-1123 label", actual=namespace),
        )
    result["namespace"] = namespace
    kinds = source_kinds(api_version)
    kind = properties.get("sourceKind") or PROPERTY_DEFAULTS["sourceKind"]
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
    result["suspend"] = bool_value(properties, "suspend", PROPERTY_DEFAULTS["suspend"], problems)
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
        result[section] = check_source(section, value, api_version, problems)
    required = SOURCE_SECTIONS.get(kind)
    if required and result.get(required) is None and kind in kinds:
        problems.add(f"properties.{required}", SOURCE_MISSING_MSG.format(kind=kind, field=required))
    result["kustomizations"] = check_kustomizations(properties.get("kustomizations"), problems)
    result["configurationProtectedSettings"] = _protected(properties, problems)
    result["waitForReconciliation"] = properties.get("waitForReconciliation")
    result["reconciliationWaitDuration"] = properties.get("reconciliationWaitDuration")
    problems.raise_if_any()
    return result


def _protected(properties: dict[str, Any], problems: Problems) -> dict[str, str]:
    """``configurationProtectedSettings``: write-only secrets, a map of strings. A null value
    sets nothing (and in a PATCH removes the key)."""
    protected = properties.get("configurationProtectedSettings")
    if isinstance(protected, dict):
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
    return protected or {}
