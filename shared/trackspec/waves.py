"""The waves of a rollout: ordered groups of clusters, each updated together and judged against
its failure budget before the next one starts."""

from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shared.durations import Duration
from shared.quantities import CountOrPercent
from shared.trackspec.gates import GateName
from shared.trackspec.rules import PositiveDuration, WaveName, check_tag_map, error, raise_if
from shared.trackspec.windows import WindowName
from shared.wire import WireModel

Selector = dict[str, str | list[str]]


class Wave(WireModel):
    """An ordered group of clusters updated together, then judged before the next wave."""

    name: WaveName
    selector: Selector | None = None
    """Tag equality (a list means any of); takes matching clusters not yet placed."""
    percent: float | None = Field(default=None, gt=0, le=100)
    """Takes this share of the clusters not yet placed, rounded up, at least one."""
    max_concurrency: CountOrPercent | None = None
    """Clusters applied at once: a count or a percentage of the wave (rounded up)."""
    per_site_concurrency: int | None = Field(default=None, ge=1)
    """Clusters of one site applied at once."""
    max_failures: CountOrPercent = CountOrPercent(count=0)
    """Failures tolerated before the wave fails: a count or a percentage (rounded down)."""
    soak: Duration = timedelta(0)
    """Time to wait after the wave is healthy, then health is checked again."""
    approval: bool = False
    """Wait for an operator's approval before the wave starts."""
    approval_timeout: PositiveDuration | None = None
    """Abort the rollout when no approval arrives in this time (default: wait forever)."""
    expected_reconcile: PositiveDuration | None = None
    """This wave's write-to-Healthy time for the plan's ETA (default: the track's)."""
    windows: list[WindowName] = Field(default_factory=list)
    """Maintenance windows (`maintenanceWindows` names) the wave's clusters are written in:
    all of them must be open."""
    metric_gates: list[GateName] = Field(default_factory=list)
    """Metric gates (`metricGates` names) judged when the wave has applied and after its soak."""

    @field_validator("selector", mode="before")
    @classmethod
    def _selector(cls, value: Any) -> Any:
        if value is not None and isinstance(value, dict) and not value:
            raise PydanticCustomError(
                "selector",
                "an empty selector matches nothing; omit it to take every remaining cluster",
            )
        return check_tag_map(value)

    @field_validator("max_concurrency")
    @classmethod
    def _concurrency(cls, value: CountOrPercent | None) -> CountOrPercent | None:
        if value is None:
            return value
        if value.count is not None and value.count < 1:
            raise PydanticCustomError(
                "count_or_percent", "must be at least 1, got {n}", {"n": value.count}
            )
        if value.percent is not None and not 0 < value.percent <= 100:
            raise PydanticCustomError(
                "count_or_percent",
                "a percentage must be above 0% and at most 100%, got {p}",
                {"p": str(value)},
            )
        return value

    @field_validator("max_failures")
    @classmethod
    def _failures(cls, value: CountOrPercent) -> CountOrPercent:
        if value.percent is not None and not 0 <= value.percent <= 100:
            raise PydanticCustomError(
                "count_or_percent",
                "a percentage must be between 0% and 100%, got {p}",
                {"p": str(value)},
            )
        return value

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> "Wave":
        errors = []
        if self.selector is not None and self.percent is not None:
            errors.append(
                error(
                    "exclusive",
                    ("percent",),
                    self.percent,
                    "give either selector or percent, not both",
                )
            )
        if self.approval_timeout is not None and not self.approval:
            errors.append(
                error(
                    "approval", ("approvalTimeout",), None, "approvalTimeout needs approval: true"
                )
            )
        raise_if(errors, "Wave")
        return self

    @property
    def takes_the_rest(self) -> bool:
        """A wave with neither selector nor percent takes every remaining cluster."""
        return self.selector is None and self.percent is None
