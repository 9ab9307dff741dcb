"""The scenario file: a fleet, its Flux behaviour, faults and event sinks (YAML, camelCase).

``load_scenario(path)`` validates the whole file at once and reports every problem with its
location, the way pydantic does; ``Scenario.expand_clusters()`` turns ``generate`` entries into
concrete clusters named from a ``{i}`` template and spread round-robin over ``sites``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from emulator.metrics import MonitorSpec

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
GENERATE_NEEDS_I_MSG = "generate.name must contain an '{{i}}' placeholder, got '{name}'"
RANGE_ORDER_MSG = "reconcileSeconds.min ({min}) must not exceed max ({max})"
DUPLICATE_CLUSTER_MSG = "cluster '{name}' is defined twice in resource group '{group}'"
HTTPS_PAIR_MSG = (
    "accept.httpsUser and accept.httpsKey go together: Flux needs both the user and the key"
)
ACCEPT_NEEDS_PRIVATE_MSG = (
    "source '{url}' lists credentials in 'accept' but is not private: set 'private: true' "
    "(public sources need no credentials)"
)
DUPLICATE_SOURCE_MSG = "source '{url}' is listed twice in flux.sources"
SECRET_NAME_MSG = "Key Vault secret name '{name}' is invalid: 1 to 127 letters, digits and '-'"
DUPLICATE_SECRET_MSG = (
    "Key Vault secret '{name}' is listed twice (secret names are case-insensitive)"
)
SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
ConnectivityStatus = Literal["Connected", "Offline", "Expired", "Connecting", "AgentNotInstalled"]
"""``AgentNotInstalled`` is new in connectedClusters api-version 2026-03-01."""


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, alias_generator=to_camel, frozen=False
    )


class Defaults(Model):
    resource_group: str = "rg-fleet"
    location: str = "westeurope"
    kubernetes_version: str = "1.30.4"
    distribution: str = "AKS_Management"
    infrastructure: str = "azure_stack_hci"
    agent_version: str = "1.21.10"
    kind: str = "ProvisionedCluster"


class ClusterSpec(Model):
    """One cluster; unset fields come from ``defaults``."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    resource_group: str | None = None
    subscription_id: str | None = None
    location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    kubernetes_version: str | None = None
    distribution: str | None = None
    agent_version: str | None = None
    kind: str | None = None
    connectivity_status: ConnectivityStatus = "Connected"
    total_node_count: int = 3


class GenerateSpec(Model):
    count: int = Field(ge=1, le=100_000)
    name: str
    sites: int = Field(default=1, ge=1)
    tags: dict[str, str] = Field(default_factory=dict)
    resource_group: str | None = None
    location: str | None = None
    kubernetes_version: str | None = None

    @field_validator("name")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{i" not in value:
            raise ValueError(GENERATE_NEEDS_I_MSG.format(name=value))
        return value


class GenerateEntry(Model):
    generate: GenerateSpec


def _entry_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "generate" if "generate" in value else "cluster"
    return "generate" if isinstance(value, GenerateEntry) else "cluster"


ClusterEntry = Annotated[
    Annotated[ClusterSpec, Tag("cluster")] | Annotated[GenerateEntry, Tag("generate")],
    Discriminator(_entry_kind),
]
"""A cluster, or a ``generate`` block; the key decides which, so errors name one model."""


class Range(Model):
    min: float = Field(default=0.2, ge=0)
    max: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(RANGE_ORDER_MSG.format(min=self.min, max=self.max))
        return self


ClusterSelector = str | dict[str, str]
"""A name glob (``store-0*``) or a tag map (``{ring: canary}``) that must all match."""


class FailureRule(Model):
    """Commits starting with ``commit`` fail on the matching clusters with ``reason``."""

    commit: str = Field(min_length=1)
    clusters: ClusterSelector = "*"
    reason: str = "HealthCheckFailed"
    message: str | None = None
    kustomization: str | None = None


OciRevisionForm = Literal["digest", "bare"]
"""How ``sourceSyncedCommitId`` spells an OCI revision: ``digest`` is ``sha256:<hex>``
(``<tag>@sha256:<hex>`` when the source names a tag), ``bare`` is the hex digest alone."""


class OciRevisionRule(Model):
    """On the matching clusters, OCI revisions are reported in ``form``."""

    clusters: ClusterSelector
    form: OciRevisionForm


class TlsAccept(Model):
    """An OCI client certificate and key (PEM text) that the registry accepts."""

    client_certificate: str = Field(min_length=1)
    private_key: str = Field(min_length=1, repr=False)


class SourceAccept(Model):
    """What Flux can fetch a private source with; any one form that matches is enough."""

    ssh_private_key: str | None = Field(default=None, min_length=1, repr=False)
    https_user: str | None = Field(default=None, min_length=1)
    https_key: str | None = Field(default=None, min_length=1, repr=False)
    local_auth_ref: str | None = Field(default=None, min_length=1)
    provider: Literal["Azure"] | None = None
    tls: TlsAccept | None = None

    @model_validator(mode="after")
    def _https_pair(self) -> SourceAccept:
        if (self.https_user is None) != (self.https_key is None):
            raise ValueError(HTTPS_PAIR_MSG)
        return self

    def forms(self) -> list[str]:
        """The credential forms listed: ``sshPrivateKey``, ``https``, ``localAuthRef``, ..."""
        found = [
            ("sshPrivateKey", self.ssh_private_key),
            ("https", self.https_user),
            ("localAuthRef", self.local_auth_ref),
            ("provider", self.provider),
            ("tls", self.tls),
        ]
        return [name for name, value in found if value is not None]


class FluxSource(Model):
    """A source URL (exact, or an fnmatch glob) and whether Flux needs credentials for it."""

    url: str = Field(min_length=1)
    private: bool = False
    accept: SourceAccept = Field(default_factory=SourceAccept)

    @model_validator(mode="after")
    def _accept_needs_private(self) -> FluxSource:
        if not self.private and self.accept.forms():
            raise ValueError(ACCEPT_NEEDS_PRIVATE_MSG.format(url=self.url))
        return self


class FluxSpec(Model):
    branch_heads: dict[str, str] = Field(default_factory=lambda: {"main": "0" * 40})
    tags: dict[str, str] = Field(default_factory=dict)
    reconcile_seconds: Range = Field(default_factory=Range)
    progression: Literal["time", "immediate", "manual"] = "time"
    failures: list[FailureRule] = Field(default_factory=list)
    sources: list[FluxSource] = Field(default_factory=list)
    oci_revision_form: OciRevisionForm = "digest"
    oci_revision_rules: list[OciRevisionRule] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: list[FluxSource]) -> list[FluxSource]:
        seen: set[str] = set()
        for source in value:
            if source.url in seen:
                raise ValueError(DUPLICATE_SOURCE_MSG.format(url=source.url))
            seen.add(source.url)
        return value


class SlowRule(Model):
    clusters: ClusterSelector
    factor: float = Field(gt=0)


class Bucket(Model):
    bucket: int = Field(ge=1)
    refill_per_second: float = Field(gt=0)


class ResourceGraphQuota(Model):
    queries: int = Field(default=15, ge=1)
    window_seconds: float = Field(default=5.0, gt=0)


class ThrottleSpec(Model):
    """ARM token buckets per subscription and operation type."""

    reads: Bucket = Field(default_factory=lambda: Bucket(bucket=250, refill_per_second=25))
    writes: Bucket = Field(default_factory=lambda: Bucket(bucket=200, refill_per_second=10))
    deletes: Bucket = Field(default_factory=lambda: Bucket(bucket=200, refill_per_second=10))
    resource_graph: ResourceGraphQuota | None = None


class FaultsSpec(Model):
    offline: list[str] = Field(default_factory=list)
    slow: list[SlowRule] = Field(default_factory=list)
    arm_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    throttle: ThrottleSpec | None = None
    seed: int | None = None


class EventGridSink(Model):
    url: str
    schema_: Literal["EventGridSchema", "CloudEventSchemaV1_0"] = Field(
        default="EventGridSchema", alias="schema"
    )


class FluxSink(Model):
    url: str
    hmac_key: str | None = None


class EventsSpec(Model):
    event_grid: EventGridSink | None = None
    flux: FluxSink | None = None


class KeyVaultSpec(Model):
    """The Key Vault stand-in's secrets at start: name -> value (each becomes version 1)."""

    secrets: dict[str, str] = Field(default_factory=dict, repr=False)

    @field_validator("secrets")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[str] = set()
        for name in value:
            if not SECRET_NAME.match(name):
                raise ValueError(SECRET_NAME_MSG.format(name=name))
            if name.lower() in seen:
                raise ValueError(DUPLICATE_SECRET_MSG.format(name=name))
            seen.add(name.lower())
        return value


class ArmSpec(Model):
    """How the emulated ARM front end behaves (all optional)."""

    operation_seconds: float = Field(default=0.2, ge=0)
    retry_after_seconds: int = Field(default=0, ge=0)
    page_size: int = Field(default=100, ge=1, le=1000)
    tenant_id: str = "00000000-0000-0000-0000-0000000000aa"


class Scenario(Model):
    # A scenario holds secrets (keyVault.secrets, flux.sources[].accept): errors name the
    # location and the problem, never the input.
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=False,
        hide_input_in_errors=True,
    )

    subscription_id: str = DEFAULT_SUBSCRIPTION
    defaults: Defaults = Field(default_factory=Defaults)
    clusters: list[ClusterEntry] = Field(default_factory=list)
    flux: FluxSpec = Field(default_factory=FluxSpec)
    faults: FaultsSpec = Field(default_factory=FaultsSpec)
    events: EventsSpec = Field(default_factory=EventsSpec)
    arm: ArmSpec = Field(default_factory=ArmSpec)
    key_vault: KeyVaultSpec = Field(default_factory=KeyVaultSpec)
    monitor: MonitorSpec = Field(default_factory=MonitorSpec)
    """Synthetic Azure Monitor series and query faults (``emulator.metrics``)."""
    seed: int | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        seen: set[tuple[str, str, str]] = set()
        for cluster in self.expand_clusters():
            key = (
                (cluster.subscription_id or "").lower(),
                (cluster.resource_group or "").lower(),
                cluster.name.lower(),
            )
            if key in seen:
                raise ValueError(
                    DUPLICATE_CLUSTER_MSG.format(name=cluster.name, group=cluster.resource_group)
                )
            seen.add(key)
        return self

    def expand_clusters(self) -> list[ClusterSpec]:
        """Every cluster of the fleet with defaults applied, in file order."""
        result: list[ClusterSpec] = []
        for entry in self.clusters:
            if isinstance(entry, GenerateEntry):
                result.extend(self._generate(entry.generate))
            else:
                result.append(self._with_defaults(entry))
        return result

    def _generate(self, spec: GenerateSpec) -> list[ClusterSpec]:
        clusters = []
        for i in range(1, spec.count + 1):
            tags = dict(spec.tags)
            tags.setdefault("site", f"site-{(i - 1) % spec.sites + 1}")
            cluster = ClusterSpec(
                name=spec.name.format(i=i),
                tags=tags,
                resource_group=spec.resource_group,
                location=spec.location,
                kubernetes_version=spec.kubernetes_version,
            )
            clusters.append(self._with_defaults(cluster))
        return clusters

    def _with_defaults(self, spec: ClusterSpec) -> ClusterSpec:
        d = self.defaults
        return spec.model_copy(
            update={
                "resource_group": spec.resource_group or d.resource_group,
                "subscription_id": spec.subscription_id or self.subscription_id,
                "location": spec.location or d.location,
                "kubernetes_version": spec.kubernetes_version or d.kubernetes_version,
                "distribution": spec.distribution or d.distribution,
                "agent_version": spec.agent_version or d.agent_version,
                "kind": spec.kind or d.kind,
            }
        )


def load_scenario(source: str | Path | dict[str, Any]) -> Scenario:
    """Read and validate a scenario from a YAML file path or a mapping."""
    if isinstance(source, dict):
        return Scenario.model_validate(source)
    return parse_scenario(Path(source).read_text(encoding="utf-8"))


def parse_scenario(text: str) -> Scenario:
    """Validate a scenario given as YAML text."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"scenario must be a mapping, got {type(data).__name__}")
    return Scenario.model_validate(data)
