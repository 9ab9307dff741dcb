"""Scripted faults: failing commits, slow clusters, ARM 5xx errors (offline lives on clusters).

Faults come from the scenario (``flux.failures`` and ``faults``) and can be replaced or merged
at runtime through ``/_emulator/faults``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Protocol

from emulator.scenario import ClusterSelector, FailureRule, FaultsSpec, SlowRule, ThrottleSpec

DEFAULT_FAILURE_MESSAGES = {
    "HealthCheckFailed": (
        "health check failed after 2m0s: timeout waiting for: "
        "[Deployment/{namespace}/{kustomization} status: 'InProgress']"
    ),
    "ReconciliationFailed": (
        "apply failed: {kustomization} dry-run failed: admission webhook denied the request"
    ),
    "BuildFailed": "kustomize build failed: accumulating resources from './{kustomization}'",
    "GitOperationFailed": "failed to checkout and determine revision: unable to clone: {revision}",
}
GENERIC_FAILURE_MSG = "{reason} for revision {revision}"


class Selectable(Protocol):
    name: str
    tags: dict[str, str]


def selector_matches(selector: ClusterSelector, cluster: Selectable) -> bool:
    """A name glob (case-insensitive) or a tag map whose pairs all match the cluster's tags."""
    if isinstance(selector, str):
        return fnmatchcase(cluster.name.lower(), selector.lower())
    return all(cluster.tags.get(key) == value for key, value in selector.items())


@dataclass
class Faults:
    """The live fault settings."""

    failures: list[FailureRule] = field(default_factory=list)
    slow: list[SlowRule] = field(default_factory=list)
    arm_error_rate: float = 0.0
    throttle: ThrottleSpec | None = None
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_spec(cls, spec: FaultsSpec, failures: list[FailureRule]) -> Faults:
        return cls(
            failures=list(failures),
            slow=list(spec.slow),
            arm_error_rate=spec.arm_error_rate,
            throttle=spec.throttle,
            rng=random.Random(spec.seed),
        )

    def failure_for(self, revision: str, cluster: Selectable) -> FailureRule | None:
        """The first rule whose commit prefix matches ``revision`` on this cluster."""
        lowered = revision.lower()
        for rule in self.failures:
            if lowered.startswith(rule.commit.lower()) and selector_matches(rule.clusters, cluster):
                return rule
        return None

    def slow_factor(self, cluster: Selectable) -> float:
        factor = 1.0
        for rule in self.slow:
            if selector_matches(rule.clusters, cluster):
                factor *= rule.factor
        return factor

    def roll_arm_error(self) -> bool:
        return self.arm_error_rate > 0 and self.rng.random() < self.arm_error_rate

    def to_wire(self) -> dict[str, Any]:
        return {
            "failures": [rule.model_dump(by_alias=True) for rule in self.failures],
            "slow": [rule.model_dump(by_alias=True) for rule in self.slow],
            "armErrorRate": self.arm_error_rate,
            "throttle": self.throttle.model_dump(by_alias=True) if self.throttle else None,
        }


def failure_message(rule: FailureRule, revision: str, kustomization: str, namespace: str) -> str:
    if rule.message:
        return rule.message
    template = DEFAULT_FAILURE_MESSAGES.get(rule.reason, GENERIC_FAILURE_MSG)
    return template.format(
        reason=rule.reason, revision=revision, kustomization=kustomization, namespace=namespace
    )
