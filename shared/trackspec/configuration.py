"""The Flux configuration arcwave writes on each cluster and its Kustomizations, whose
`dependsOn` must name each other without a cycle."""

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.trackspec.rules import (
    DNS_LABEL,
    ConfigurationName,
    KustomizationName,
    PositiveDuration,
    error,
    name_rule,
    raise_if,
)
from shared.wire import WireModel


class Scope(StrEnum):
    """Where the Flux objects apply: the whole cluster or one namespace."""

    CLUSTER = "cluster"
    NAMESPACE = "namespace"


class Kustomization(WireModel):
    """One Flux Kustomization of the configuration."""

    path: str = ""
    depends_on: list[str] = Field(default_factory=list)
    prune: bool = False
    force: bool = False
    wait: bool = True
    timeout: PositiveDuration = timedelta(minutes=10)
    sync_interval: PositiveDuration = timedelta(minutes=10)
    retry_interval: PositiveDuration | None = None
    substitute: dict[str, str] = Field(default_factory=dict)
    """postBuild variable substitution."""

    @field_validator("substitute")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.fullmatch(r"[_a-zA-Z][_a-zA-Z0-9]*", name):
                raise PydanticCustomError(
                    "variable_name",
                    "'{name}' is not a Flux variable name: letters, digits and '_', not starting "
                    "with a digit",
                    {"name": name},
                )
        return value


class Configuration(WireModel):
    """The `fluxConfigurations/<name>` arcwave writes on each cluster, pinned to a commit."""

    name: ConfigurationName
    scope: Scope = Scope.CLUSTER
    namespace: Annotated[str, name_rule(DNS_LABEL, 63, "namespace")] = "default"
    kustomizations: dict[KustomizationName, Kustomization] = Field(min_length=1)
    sync_interval: PositiveDuration = timedelta(minutes=10)
    timeout: PositiveDuration = timedelta(minutes=10)

    @model_validator(mode="after")
    def _dependencies_exist_and_do_not_cycle(self) -> "Configuration":
        errors: list[InitErrorDetails] = []
        names = set(self.kustomizations)
        for name, kustomization in self.kustomizations.items():
            for index, dependency in enumerate(kustomization.depends_on):
                loc: tuple[str | int, ...] = ("kustomizations", name, "dependsOn", index)
                if dependency == name:
                    errors.append(
                        error(
                            "depends_on",
                            loc,
                            dependency,
                            f"kustomization '{name}' cannot depend on itself",
                        )
                    )
                elif dependency not in names:
                    known = ", ".join(sorted(names))
                    errors.append(
                        error(
                            "depends_on",
                            loc,
                            dependency,
                            f"'{dependency}' is not a kustomization of this "
                            f"configuration (have: {known})",
                        )
                    )
        if not errors:
            cycle = _find_cycle({n: k.depends_on for n, k in self.kustomizations.items()})
            if cycle:
                errors.append(
                    error(
                        "depends_on",
                        ("kustomizations", cycle[0], "dependsOn"),
                        cycle,
                        "dependsOn forms a cycle: " + " → ".join(cycle),
                    )
                )
        for name in self.kustomizations:
            if len(f"{self.name}-{name}") > 63:
                errors.append(
                    error(
                        "name",
                        ("kustomizations", name),
                        name,
                        f"'{self.name}-{name}' (configuration-kustomization) is "
                        "longer than 63 characters, the Kubernetes name limit",
                    )
                )
        raise_if(errors, "Configuration")
        return self


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None
