"""The track spec: what an operator declares about one Flux configuration and its rollout.

```yaml
name: baseline
source: {url: https://github.com/contoso/fleet-config, branch: main, paths: ["clusters/**"]}
configuration:
  name: baseline
  scope: cluster
  namespace: flux-system
  kustomizations:
    infra: {path: ./infrastructure, prune: true}
    apps:  {path: ./apps, dependsOn: [infra]}
fleet: {subscriptions: [<sub-id>], resourceGroups: [], tags: {env: prod}}
waves:
  - {name: canary, selector: {ring: canary}, maxFailures: 0, soak: 10m}
  - {name: early, selector: {ring: early}, maxConcurrency: 10, maxFailures: 10%, approval: true}
  - {name: broad, maxConcurrency: 50, perSiteConcurrency: 2, maxFailures: 5%}
progressDeadline: 30m
onFailure: rollback
offline: skip
supersede: queue
drift: report               # report | revert
```

Every field is validated when the spec is read; `load_track_spec` reports every problem at
once, each naming its field (`waves[1].maxFailures`) and the reason. docs/track-spec.md is the
operator's reference and must stay true to this package.

One module an idea: `rules` (names, durations, tag maps and how problems are raised),
`source` (where manifests come from), `configuration` (the Flux configuration written on each
cluster), `fleet` (which clusters), `waves` (in what order), `policies` (what a rollout does
when things go wrong) and `spec` (the whole track spec and how it is read).
"""

from shared.trackspec.alerts import AlertAction, AlertPolicy, Severity
from shared.trackspec.configuration import Configuration, Kustomization, Scope
from shared.trackspec.fleet import FleetSelection
from shared.trackspec.gates import Aggregate, Baseline, MetricGate, OnError, Threshold
from shared.trackspec.policies import DriftPolicy, OfflinePolicy, OnFailure, SupersedePolicy
from shared.trackspec.rules import (
    ConfigurationName,
    KustomizationName,
    PositiveDuration,
    TrackName,
    WaveName,
)
from shared.trackspec.source import OciTrigger, Source
from shared.trackspec.spec import TrackSpec, load_track_spec, validate_track_spec
from shared.trackspec.waves import Selector, Wave

__all__ = [
    "Aggregate",
    "AlertAction",
    "AlertPolicy",
    "Baseline",
    "Configuration",
    "ConfigurationName",
    "DriftPolicy",
    "FleetSelection",
    "Kustomization",
    "KustomizationName",
    "MetricGate",
    "OciTrigger",
    "OfflinePolicy",
    "OnError",
    "OnFailure",
    "PositiveDuration",
    "Scope",
    "Selector",
    "Severity",
    "Source",
    "SupersedePolicy",
    "Threshold",
    "TrackName",
    "TrackSpec",
    "Wave",
    "WaveName",
    "load_track_spec",
    "validate_track_spec",
]
