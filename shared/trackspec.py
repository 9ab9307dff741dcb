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
operator's reference and must stay true to this module.
"""

import json
import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.documents import parse_document
from shared.durations import Duration
from shared.problems import InvalidInput, Problem, problems_from
from shared.quantities import CountOrPercent
from shared.sourceauth import SourceAuth, SourceProvider
from shared.wire import WireModel

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_CONFIG_NAME = re.compile(r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GIT_URL = re.compile(r"(https?|ssh)://[^\s/]+/\S+|[\w.-]+@[\w.-]+:\S+")
_OCI_URL = re.compile(r"oci://[\w.-]+(:\d+)?/[\w./-]+")
_RESOURCE_GROUP = re.compile(r"[-\w._()]{1,90}")


def _name_rule(pattern: re.Pattern[str], max_len: int, what: str) -> Any:
    def check(value: str) -> str:
        if len(value) > max_len or not pattern.fullmatch(value):
            raise PydanticCustomError(
                "name",
                "'{value}' is not a valid {what}: use lower-case letters, digits and '-', "
                "starting and ending with a letter or digit, at most {max_len} characters",
                {"value": value, "what": what, "max_len": max_len},
            )
        return value

    return AfterValidator(check)


TrackName = Annotated[str, _name_rule(_DNS_LABEL, 63, "track name")]
WaveName = Annotated[str, _name_rule(_DNS_LABEL, 63, "wave name")]
KustomizationName = Annotated[str, _name_rule(_DNS_LABEL, 63, "kustomization name")]
ConfigurationName = Annotated[str, _name_rule(_CONFIG_NAME, 63, "configuration name")]
PositiveDuration = Annotated[Duration, AfterValidator(lambda d: _positive(d))]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise PydanticCustomError("duration", "must be longer than zero")
    return value


class Scope(StrEnum):
    """Where the Flux objects apply: the whole cluster or one namespace."""

    CLUSTER = "cluster"
    NAMESPACE = "namespace"


class OnFailure(StrEnum):
    """What a rollout does when a wave breaks its failure budget."""

    ROLLBACK = "rollback"
    """Restore the last good revision on every cluster this rollout changed."""
    HALT = "halt"
    """Stop and leave clusters as they are for an operator to look at."""


class OfflinePolicy(StrEnum):
    """What a wave does with a cluster whose Arc agent is Offline or Expired."""

    SKIP = "skip"
    """Record it as Skipped (not a failure); catch-up brings it along when it returns."""
    FAIL = "fail"
    """Count it against the wave's failure budget."""
    WAIT = "wait"
    """Wait for it until the progress deadline."""


class SupersedePolicy(StrEnum):
    """What a track does with a new revision while a rollout is running."""

    QUEUE = "queue"
    """Finish the running rollout, then roll the newest queued revision."""
    RESTART = "restart"
    """Stop the running rollout at its next safe point and start the newest revision."""


class DriftPolicy(StrEnum):
    """What arcwave does when a cluster's configuration was changed outside arcwave."""

    REPORT = "report"
    """Record it on the cluster and publish `arcwave.cluster.drifted`."""
    REVERT = "revert"
    """Report it, then write the desired revision back."""


class Source(WireModel):
    """Where the track's manifests come from: a Git repository and branch, or an OCI
    repository (`oci://registry/repository`) whose revisions are tags and digests."""

    url: str
    branch: str | None = Field(default=None, min_length=1)
    """The branch a Git source follows (required for Git; not for OCI)."""
    paths: list[str] = Field(default_factory=list)
    """Globs of changed files that start a rollout; empty means any change."""
    auth: SourceAuth | None = None
    """How Flux authenticates to a private source (shared/sourceauth.py)."""

    @field_validator("url")
    @classmethod
    def _source_url(cls, value: str) -> str:
        if not (_GIT_URL.fullmatch(value.strip()) or _OCI_URL.fullmatch(value.strip())):
            raise PydanticCustomError(
                "url",
                "'{value}' is not a Git or OCI URL: use https://host/org/repo, "
                "ssh://git@host/org/repo, git@host:org/repo or oci://registry/repository",
                {"value": value},
            )
        return value.strip()

    @model_validator(mode="after")
    def _branch_for_git_only(self) -> "Source":
        if self.is_oci and self.branch is not None:
            _raise_if(
                [
                    _error(
                        "oci_branch",
                        ("branch",),
                        self.branch,
                        "an OCI source has no branch; its revisions are tags and digests",
                    )
                ],
                "Source",
            )
        if not self.is_oci and self.branch is None:
            _raise_if(
                [_error("branch", ("branch",), None, "a Git source needs the branch it follows")],
                "Source",
            )
        _raise_if(_auth_problems(self), "Source")
        return self

    @property
    def is_ssh(self) -> bool:
        return self.url.startswith("ssh://") or bool(re.match(r"[\w.-]+@[\w.-]+:", self.url))

    @property
    def is_oci(self) -> bool:
        return self.url.startswith("oci://")

    @property
    def oci_repository(self) -> tuple[str, str] | None:
        """`(registry, repository)` of an OCI source."""
        if not self.is_oci:
            return None
        registry, _, repository = self.url.removeprefix("oci://").partition("/")
        return registry, repository

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith("refs/") or " " in value or value.endswith("/"):
            raise PydanticCustomError(
                "branch",
                "'{value}' is not a branch name: give it as 'main', not 'refs/heads/main'",
                {"value": value},
            )
        return value

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.strip():
                raise PydanticCustomError("path", "path globs cannot be empty")
        return value


class OciTrigger(WireModel):
    """Container registry pushes that start a rollout of an OCI track: the registry's
    `ImagePushed`/`ChartPushed` events for this repository with a tag matching the pattern."""

    registry: str = Field(min_length=1)
    """The registry host, as in `oci://<registry>/...` (e.g. `contoso.azurecr.io`)."""
    repository: str = Field(min_length=1)
    tag_pattern: str = Field(default="*", min_length=1)
    """A glob (`v*`, `release-*`); `*` takes every tag."""


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
    namespace: Annotated[str, _name_rule(_DNS_LABEL, 63, "namespace")] = "default"
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
                        _error(
                            "depends_on",
                            loc,
                            dependency,
                            f"kustomization '{name}' cannot depend on itself",
                        )
                    )
                elif dependency not in names:
                    known = ", ".join(sorted(names))
                    errors.append(
                        _error(
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
                    _error(
                        "depends_on",
                        ("kustomizations", cycle[0], "dependsOn"),
                        cycle,
                        "dependsOn forms a cycle: " + " → ".join(cycle),
                    )
                )
        for name in self.kustomizations:
            if len(f"{self.name}-{name}") > 63:
                errors.append(
                    _error(
                        "name",
                        ("kustomizations", name),
                        name,
                        f"'{self.name}-{name}' (configuration-kustomization) is "
                        "longer than 63 characters, the Kubernetes name limit",
                    )
                )
        _raise_if(errors, "Configuration")
        return self


class FleetSelection(WireModel):
    """Which clusters the track covers: subscriptions, optionally narrowed by group and tags."""

    subscriptions: list[str] = Field(min_length=1)
    resource_groups: list[str] = Field(default_factory=list)
    tags: dict[str, str | list[str]] = Field(default_factory=dict)
    """Tag equality; a list means any of its values."""
    site_tag: str = Field(default="site", min_length=1)
    """The tag that names a cluster's site, for ordering and `perSiteConcurrency`."""

    @field_validator("subscriptions")
    @classmethod
    def _guids(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for sub in value:
            if not _GUID.fullmatch(sub):
                raise PydanticCustomError(
                    "subscription", "'{sub}' is not a subscription id (a GUID)", {"sub": sub}
                )
            if sub.lower() in seen:
                raise PydanticCustomError("duplicate", "'{sub}' is listed twice", {"sub": sub})
            seen.add(sub.lower())
        return [s.lower() for s in value]

    @field_validator("resource_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        for group in value:
            if not _RESOURCE_GROUP.fullmatch(group) or group.endswith("."):
                raise PydanticCustomError(
                    "resource_group", "'{group}' is not a resource group name", {"group": group}
                )
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return _check_tag_map(value)


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

    @field_validator("selector", mode="before")
    @classmethod
    def _selector(cls, value: Any) -> Any:
        if value is not None and isinstance(value, dict) and not value:
            raise PydanticCustomError(
                "selector",
                "an empty selector matches nothing; omit it to take every remaining cluster",
            )
        return _check_tag_map(value)

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
                _error(
                    "exclusive",
                    ("percent",),
                    self.percent,
                    "give either selector or percent, not both",
                )
            )
        if self.approval_timeout is not None and not self.approval:
            errors.append(
                _error(
                    "approval", ("approvalTimeout",), None, "approvalTimeout needs approval: true"
                )
            )
        _raise_if(errors, "Wave")
        return self

    @property
    def takes_the_rest(self) -> bool:
        """A wave with neither selector nor percent takes every remaining cluster."""
        return self.selector is None and self.percent is None


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

    @model_validator(mode="after")
    def _waves_are_distinct_and_reachable(self) -> "TrackSpec":
        errors = []
        errors.extend(_oci_trigger_problems(self.oci_trigger, self.source))
        first_seen: dict[str, int] = {}
        catch_all: int | None = None
        for index, wave in enumerate(self.waves):
            if wave.name in first_seen:
                errors.append(
                    _error(
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
                    _error(
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
        _raise_if(errors, "TrackSpec")
        return self

    def wave(self, name: str) -> Wave:
        """The wave called `name`."""
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(f"track '{self.name}' has no wave '{name}'")


def _auth_problems(source: "Source") -> list[InitErrorDetails]:
    """Ways to authenticate that do not fit the source's URL."""
    auth = source.auth
    if auth is None:
        return []
    kind = "an OCI" if source.is_oci else ("an SSH" if source.is_ssh else "an HTTPS")
    problems = []
    if auth.ssh is not None and not source.is_ssh:
        problems.append(
            _error(
                "auth", ("auth", "ssh"), None, f"ssh needs an ssh:// or git@ URL, not {kind} one"
            )
        )
    if auth.https is not None and (source.is_oci or source.is_ssh):
        problems.append(
            _error(
                "auth", ("auth", "https"), None, f"https needs an https:// Git URL, not {kind} one"
            )
        )
    if auth.client_certificate is not None and not source.is_oci:
        problems.append(
            _error(
                "auth", ("auth", "clientCertificate"), None, "clientCertificate is for OCI sources"
            )
        )
    if auth.ca_certificate is not None and source.is_ssh:
        problems.append(
            _error(
                "auth",
                ("auth", "caCertificate"),
                None,
                "caCertificate is for HTTPS and OCI sources",
            )
        )
    if auth.provider is SourceProvider.GITHUB and source.is_oci:
        problems.append(
            _error("auth", ("auth", "provider"), None, "provider github is for Git sources")
        )
    return problems


def _oci_trigger_problems(trigger: OciTrigger | None, source: Source) -> list[InitErrorDetails]:
    if trigger is None:
        return []
    repository = source.oci_repository
    if repository is None:
        return [
            _error(
                "oci_trigger",
                ("ociTrigger",),
                None,
                "ociTrigger needs an OCI source (oci://registry/repository)",
            )
        ]
    if (trigger.registry.lower(), trigger.repository) != (repository[0].lower(), repository[1]):
        return [
            _error(
                "oci_trigger",
                ("ociTrigger",),
                None,
                f"ociTrigger names {trigger.registry}/{trigger.repository} but the source is "
                f"{repository[0]}/{repository[1]}",
            )
        ]
    return []


def _check_tag_map(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key, wanted in value.items():
        if not isinstance(key, str) or not key.strip():
            raise PydanticCustomError("tag", "tag names must be non-empty text")
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            raise PydanticCustomError(
                "tag", "tag '{key}' lists no values; give a value or a non-empty list", {"key": key}
            )
        for item in values:
            if not isinstance(item, str):
                raise PydanticCustomError(
                    "tag",
                    "tag '{key}' must be text or a list of text, got {kind}",
                    {"key": key, "kind": type(item).__name__},
                )
    return value


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


def _error(kind: str, loc: tuple[str | int, ...], value: Any, msg: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, msg.replace("{", "{{").replace("}", "}}")),
        loc=loc,
        input=value,
    )


def _raise_if(errors: list[InitErrorDetails], title: str) -> None:
    if errors:
        raise ValidationError.from_exception_data(title, errors)


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


def dump_track_spec(spec: TrackSpec) -> str:
    """The spec as canonical JSON (camelCase, defaults filled in)."""
    return json.dumps(spec.to_wire(), indent=2, sort_keys=False)
