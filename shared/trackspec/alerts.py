"""What a rollout does when an Azure Monitor alert fires on a cluster it wrote (docs/gates.md).

```yaml
alerts:
  onFired: pause          # pause | fail | ignore
  resumeOnResolved: false # resume once every alert that paused it is resolved
  minSeverity: Sev4       # alerts less severe than this are ignored (Sev0 is the most severe)
```

The defaults pause and wait for an operator: a pause costs nothing that a resume cannot give
back, while failing on an alert rolls a release back on what may be noise; and an alert that
resolves itself says the symptom went away, not that the release is good, so going on is left
to a person unless the track says otherwise.
"""

from enum import StrEnum

from shared.wire import WireModel


class Severity(StrEnum):
    """Azure Monitor's alert severities, `Sev0` (critical) to `Sev4` (verbose)."""

    SEV0 = "Sev0"
    SEV1 = "Sev1"
    SEV2 = "Sev2"
    SEV3 = "Sev3"
    SEV4 = "Sev4"

    @property
    def rank(self) -> int:
        """0 for `Sev0` (the most severe) to 4 for `Sev4`."""
        return int(self.value[3:])

    def at_least(self, minimum: "Severity") -> bool:
        """Whether this severity is `minimum` or more severe."""
        return self.rank <= minimum.rank


class AlertAction(StrEnum):
    """What a fired alert on one of its clusters does to a running rollout."""

    PAUSE = "pause"
    """Write nothing new (clusters in flight finish) until resumed."""
    FAIL = "fail"
    """End the rollout Failed (reason AlertFired), then apply `onFailure`."""
    IGNORE = "ignore"
    """Nothing: the track does not follow alerts."""


class AlertPolicy(WireModel):
    """The track's answer to Azure Monitor alerts on the clusters a rollout wrote."""

    on_fired: AlertAction = AlertAction.PAUSE
    resume_on_resolved: bool = False
    """Resume a rollout that alerts paused once none of the alerts on it still fires (never
    a pause an operator made)."""
    min_severity: Severity = Severity.SEV4
    """Alerts less severe than this are ignored; the default takes every alert that reaches
    arcwave (the action group's alert rules are the first filter)."""

    def follows(self, severity: Severity) -> bool:
        """Whether an alert of `severity` acts on a rollout of this track."""
        return self.on_fired is not AlertAction.IGNORE and severity.at_least(self.min_severity)
