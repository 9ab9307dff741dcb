"""Azure Monitor alerts as action groups deliver them (the common alert schema), and which
clusters one names (docs/gates.md, "Alerts that halt rollouts").

```json
{"schemaId": "azureMonitorCommonAlertSchema",
 "data": {"essentials": {"alertId": "…", "alertRule": "HighErrorRate", "severity": "Sev2",
                         "monitorCondition": "Fired", "alertTargetIDs": ["/subscriptions/…"]},
          "alertContext": {…signal-specific…}}}
```

`read_alert` checks what arcwave needs (`essentials`: the alert's id, rule, severity,
condition, targets) and answers every problem at once with its field
(`data.essentials.monitorCondition`); fields arcwave does not use are left alone, so Azure can
add some. The signal-specific `alertContext` is only read for what names a resource, and a
part of it that does not have the documented shape names nothing rather than failing:

- `essentials.alertTargetIDs` (and `configurationItems` that are ARM ids): Azure lower-cases
  these, so every ARM id is compared case-insensitively;
- metric and log search (v2) alerts: `alertContext.condition.allOf[].dimensions[]`;
  log alerts (v1): `alertContext.Dimensions[]`; Prometheus alerts: `alertContext.labels`.

A value that is an ARM id matches a cluster with that id (or a resource under it), whatever
the dimension is called; a plain name matches clusters of that name only under a dimension
that names a cluster (`cluster`, `ClusterName`, …).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared.problems import InvalidInput, Problem, problems_from
from shared.reasons import Reason
from shared.times import UtcTime
from shared.trackspec.alerts import Severity
from shared.wire import WireModel

COMMON_SCHEMA = "azureMonitorCommonAlertSchema"
ALERT_BODY_LIMIT = 256 * 1024
"""The largest alert body accepted (413 above it): Azure Monitor keeps webhook payloads
under this by leaving log search results out of bigger ones."""
MAX_NAME_CHARS = 512
MAX_TARGETS = 1000
ACTOR_PREFIX = "alert:"
"""The actor of what an alert does: `alert:<rule>` on the timeline and in `pausedBy`."""
NAME_DIMENSIONS = frozenset({"cluster", "clustername", "cluster_name", "clusterid"})
"""Dimensions and labels whose plain-name values are cluster names (compared lower-case)."""


class MonitorCondition(StrEnum):
    FIRED = "Fired"
    RESOLVED = "Resolved"


class _AzureModel(BaseModel):
    """Azure's wire shape: camelCase, extra fields allowed (Azure adds them)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
        frozen=True,
    )


class Essentials(_AzureModel):
    """The part of every common-schema alert that does not depend on the signal."""

    alert_id: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    alert_rule: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    severity: Severity
    monitor_condition: MonitorCondition
    signal_type: str | None = None
    monitoring_service: str | None = None
    alert_target_ids: list[str] = Field(
        default_factory=list, alias="alertTargetIDs", max_length=MAX_TARGETS
    )
    configuration_items: list[str] = Field(default_factory=list, max_length=MAX_TARGETS)
    fired_date_time: datetime | None = None
    resolved_date_time: datetime | None = None


class AlertData(_AzureModel):
    essentials: Essentials
    alert_context: dict[str, Any] | None = None


class CommonAlert(_AzureModel):
    """One alert as an action group with the common alert schema posts it."""

    schema_id: Literal["azureMonitorCommonAlertSchema"]
    data: AlertData

    @property
    def essentials(self) -> Essentials:
        return self.data.essentials

    @property
    def rule(self) -> str:
        return self.essentials.alert_rule

    @property
    def fired(self) -> bool:
        return self.essentials.monitor_condition is MonitorCondition.FIRED

    @property
    def actor(self) -> str:
        """`alert:<rule>`, as the timeline records what this alert did."""
        return f"{ACTOR_PREFIX}{self.rule[:200]}"

    @property
    def key(self) -> str:
        """The alert instance: the same for its Fired and its Resolved delivery."""
        return self.essentials.alert_id.lower()

    @property
    def digest(self) -> str:
        """A short id of the alert instance, safe in timeline keys."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:16]

    def signals(self) -> list[Signal]:
        """Everything in the alert that may name a cluster."""
        found = [Signal("alertTargetIDs", t) for t in self.essentials.alert_target_ids]
        found += [
            Signal("configurationItems", c)
            for c in self.essentials.configuration_items
            if is_arm_id(c)
        ]
        found += list(_context_signals(self.data.alert_context or {}))
        return found


def read_alert(data: Any) -> CommonAlert:
    """The alert in a decoded body; `InvalidInput` naming every field at fault otherwise."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "alert",
            [Problem("", "dict_type", "an alert is a JSON object", type(data).__name__)],
        )
    schema = data.get("schemaId")
    if schema != COMMON_SCHEMA:
        raise InvalidInput(
            "alert",
            [
                Problem(
                    "schemaId",
                    "common_alert_schema",
                    f"arcwave reads the common alert schema ('{COMMON_SCHEMA}'): turn on "
                    "'Enable the common alert schema' on the action group's webhook",
                    schema,
                )
            ],
        )
    try:
        return CommonAlert.model_validate(data)
    except ValidationError as error:
        raise InvalidInput("alert", problems_from(error, CommonAlert)) from None


@dataclass(frozen=True)
class Signal:
    """One value in an alert that may name a resource, with where it was found."""

    name: str
    """The dimension or label name, or the essentials field."""
    value: str

    def matches(self, cluster_id: str, cluster_name: str) -> bool:
        """Whether this value names the cluster (ids case-insensitively, and a resource
        under the cluster counts)."""
        value = self.value.strip().lower()
        if is_arm_id(value):
            own = cluster_id.lower().rstrip("/")
            return value.rstrip("/") == own or value.startswith(own + "/")
        return self.name.lower() in NAME_DIMENSIONS and value == cluster_name.lower()


def pause_reason(paused_by: str | None) -> Reason:
    """Why a rollout is paused, from who paused it: AlertFired for an alert, else Paused."""
    if paused_by is not None and paused_by.startswith(ACTOR_PREFIX):
        return Reason.ALERT_FIRED
    return Reason.PAUSED


def is_arm_id(value: str) -> bool:
    return value.strip().lower().startswith("/subscriptions/")


def matching(signals: Iterable[Signal], clusters: Iterable[tuple[str, str]]) -> list[str]:
    """The ids of `clusters` (id, name) that any of `signals` names, in the given order."""
    signals = list(signals)
    return [cid for cid, name in clusters if any(s.matches(cid, name) for s in signals)]


def _context_signals(context: Mapping[str, Any]) -> Iterator[Signal]:
    """The dimensions and labels of an `alertContext`, whichever kind of alert it is; a part
    without the documented shape contributes nothing."""
    condition = context.get("condition")
    criteria = condition.get("allOf") if isinstance(condition, dict) else None
    for criterion in criteria if isinstance(criteria, list) else []:
        if isinstance(criterion, dict):
            yield from _dimensions(criterion.get("dimensions"))
    yield from _dimensions(context.get("Dimensions"))  # log alerts v1
    labels = context.get("labels")  # Prometheus
    if isinstance(labels, dict):
        for name, value in labels.items():
            if isinstance(name, str) and isinstance(value, str):
                yield Signal(name, value)


def _dimensions(entries: Any) -> Iterator[Signal]:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            name, value = entry.get("name"), entry.get("value")
            if isinstance(name, str) and isinstance(value, str):
                yield Signal(name, value)


# -- what a rollout keeps of the alerts on it --------------------------------------------------


class ActiveAlert(WireModel):
    """An alert firing on clusters a rollout wrote, as the rollout keeps it."""

    rule: str
    severity: Severity
    clusters: list[str]
    """The names of the rollout's clusters it named."""
    fired_at: UtcTime | None = None


MAX_ACTIVE_ALERTS = 100
"""Alerts a rollout remembers; past this they still act, but the rollout no longer resumes
by itself (it cannot tell when the unremembered ones resolve)."""


class AlertHold(WireModel):
    """The alerts firing on a rollout's clusters (by alert instance, lower-cased id)."""

    active: dict[str, ActiveAlert] = Field(default_factory=dict)
    unlisted: int = Field(default=0, ge=0)
    """Alerts that fired past `MAX_ACTIVE_ALERTS`."""

    def firing(self, key: str) -> bool:
        return key in self.active

    def with_alert(self, key: str, alert: ActiveAlert) -> AlertHold:
        if len(self.active) >= MAX_ACTIVE_ALERTS:
            return self.model_copy(update={"unlisted": self.unlisted + 1})
        return self.model_copy(update={"active": {**self.active, key: alert}})

    def without(self, key: str) -> AlertHold:
        return self.model_copy(
            update={"active": {k: v for k, v in self.active.items() if k != key}}
        )

    @property
    def clear(self) -> bool:
        """No alert on the rollout is known to fire still."""
        return not self.active and not self.unlisted
