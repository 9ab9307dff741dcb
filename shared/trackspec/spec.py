"""The whole track spec: one configuration rolled out to one fleet selection under one rollout
policy, and how it is read from YAML or JSON with every problem reported at once."""

from datetime import timedelta
from typing import Any

from pydantic import Field, ValidationError, model_validator

from shared.documents import parse_document
from shared.problems import InvalidInput, Problem, problems_from
from shared.trackspec.alerts import AlertPolicy
from shared.trackspec.configuration import Configuration
from shared.trackspec.fleet import FleetSelection
from shared.trackspec.gates import MetricGate, metric_gate_problems
from shared.trackspec.policies import DriftPolicy, OfflinePolicy, OnFailure, SupersedePolicy
from shared.trackspec.rules import PositiveDuration, TrackName, error, raise_if
from shared.trackspec.source import OciTrigger, Source, oci_trigger_problems
from shared.trackspec.waves import Wave
from shared.trackspec.windows import MaintenanceWindow, window_problems
from shared.wire import WireModel


class TrackSpec(WireModel):
    """One Flux configuration rolled out to one fleet selection under one rollout policy."""

    name: TrackName
    source: Source
    configuration: Configuration
    fleet: FleetSelection
    waves: list[Wave] = Field(min_length=1)
    progress_deadline: PositiveDuration = timedelta(minutes=30)
    on_failure: OnFailure = OnFailure.ROLLBACK
    offline: OfflinePolicy = OfflinePolicy.SKIP
    supersede: SupersedePolicy = SupersedePolicy.QUEUE
    drift: DriftPolicy = DriftPolicy.REPORT
    oci_trigger: OciTrigger | None = None
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    """Named windows in which clusters may be written (`shared.maintenance`)."""
    metric_gates: list[MetricGate] = Field(default_factory=list)
    """Named Azure Monitor queries that waves name in `metricGates` (docs/gates.md)."""
    alerts: AlertPolicy = AlertPolicy()
    expected_reconcile: PositiveDuration | None = None
    """How long a cluster takes from arcwave's write to its Healthy verdict, for the plan's
    ETA (default: learned from the track's history; `shared.reconcile_time`)."""

    @model_validator(mode="after")
    def _waves_are_distinct_and_reachable(self) -> "TrackSpec":
        errors = []
        errors.extend(oci_trigger_problems(self.oci_trigger, self.source))
        errors.extend(
            metric_gate_problems(self.metric_gates, [(w.name, w.metric_gates) for w in self.waves])
        )
        errors.extend(
            window_problems(self.maintenance_windows, [(w.name, w.windows) for w in self.waves])
        )
        first_seen: dict[str, int] = {}
        catch_all: int | None = None
        for index, wave in enumerate(self.waves):
            if wave.name in first_seen:
                errors.append(
                    error(
                        "duplicate",
                        ("waves", index, "name"),
                        wave.name,
                        f"wave name '{wave.name}' is already used by "
                        f"waves[{first_seen[wave.name]}]",
                    )
                )
            first_seen.setdefault(wave.name, index)
            if catch_all is not None:
                errors.append(
                    error(
                        "unreachable",
                        ("waves", index),
                        wave.name,
                        f"wave '{wave.name}' can never get a cluster: wave "
                        f"'{self.waves[catch_all].name}' (waves[{catch_all}]) has "
                        "no selector or percent and takes every remaining cluster",
                    )
                )
            elif wave.takes_the_rest:
                catch_all = index
        raise_if(errors, "TrackSpec")
        return self

    def metric_gate(self, name: str) -> MetricGate:
        """The metric gate called `name`."""
        for gate in self.metric_gates:
            if gate.name == name:
                return gate
        raise KeyError(f"track '{self.name}' has no metric gate '{name}'")

    def wave(self, name: str) -> Wave:
        """The wave called `name`."""
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(f"track '{self.name}' has no wave '{name}'")


def validate_track_spec(data: Any) -> TrackSpec:
    """Validate a decoded track spec; raise `InvalidInput` with every problem found."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "track spec",
            [
                Problem(
                    "", "dict_type", "a track spec must be a mapping of fields", type(data).__name__
                )
            ],
        )
    try:
        return TrackSpec.model_validate(data)
    except ValidationError as error:
        raise InvalidInput("track spec", problems_from(error, TrackSpec)) from None


def load_track_spec(text: str) -> TrackSpec:
    """Read a track spec from YAML or JSON text."""
    return validate_track_spec(parse_document(text, "track spec"))
