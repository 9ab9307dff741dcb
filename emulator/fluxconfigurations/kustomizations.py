"""The ``kustomizations`` of a fluxConfiguration: checked, defaulted, and ordered the way Flux
applies them (dependencies first)."""

from __future__ import annotations

from typing import Any

from emulator.fluxconfigurations.checks import DNS_LABEL, Problems, positive_int
from emulator.fluxconfigurations.exceptions import (
    DEPENDS_ON_CYCLE_MSG,
    DEPENDS_ON_SELF_MSG,
    DEPENDS_ON_UNKNOWN_MSG,
    KUSTOMIZATION_NAME_MSG,
    TYPE_MSG,
    UNKNOWN_PROPERTY_MSG,
)

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
Kustomizations = dict[str, dict[str, Any]]


def check_kustomizations(value: Any, problems: Problems) -> Kustomizations:
    target = "properties.kustomizations"
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(
            target, TYPE_MSG.format(field="kustomizations", expected="a map", actual=value)
        )
        return {}
    result: Kustomizations = {}
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
            positive_int(body, key, where, problems)
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


def find_cycle(kustomizations: Kustomizations) -> list[str] | None:
    """A dependency cycle among kustomizations as a path of names that returns to where it
    started, or None. Self-references and unknown names are reported apart, so they are
    not followed here."""
    finished: set[str] = set()
    for start in kustomizations:
        cycle = _cycle_through(start, kustomizations, [], finished)
        if cycle:
            return cycle
    return None


def _cycle_through(
    name: str, kustomizations: Kustomizations, path: list[str], finished: set[str]
) -> list[str] | None:
    """Depth first from ``name`` along ``dependsOn``; ``path`` is the walk so far."""
    if name in path:
        return [*path[path.index(name) :], name]
    if name in finished:
        return None
    path.append(name)
    followed = [d for d in kustomizations[name]["dependsOn"] if d != name and d in kustomizations]
    for dependency in followed:
        cycle = _cycle_through(dependency, kustomizations, path, finished)
        if cycle:
            return cycle
    path.pop()
    finished.add(name)
    return None


def dependency_order(kustomizations: Kustomizations) -> list[str]:
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
