"""The emulated fleet: clusters, their configurations, async operations, the write log.

All state lives in one :class:`Backend` owned by the server's event loop, so handlers never
need locks. State is keyed per subscription (the lower-cased ``(subscription, resourceGroup,
name)`` triple), like moto's per-account backends. ``advance()`` moves time-driven state
forward; the ticker calls it and so does every request, so answers never lag the clock.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from emulator.arm import CLUSTER_RESOURCE_TYPE, FLUX_RESOURCE_TYPE, merge_patch, now_iso
from emulator.connectedclusters.models import ConnectedCluster, cluster_key
from emulator.events import EventSink
from emulator.exceptions import Conflict
from emulator.faults import Faults, selector_matches
from emulator.flux import Outcome, apply_outcome, failed_kustomization, mark_pending
from emulator.fluxconfigurations.exceptions import (
    DELETING_MSG,
    CreateOnlyPropertyChanged,
    FluxConfigurationBeingDeleted,
)
from emulator.fluxconfigurations.models import SUSPENDED, FluxConfiguration
from emulator.fluxconfigurations.validation import validate_properties
from emulator.keyvault.models import Vault
from emulator.metrics import MonitorState
from emulator.operations import Operation, Operations
from emulator.private_sources import AUTHENTICATION_FAILED, source_auth_error
from emulator.reconcile_queue import ReconcileQueue
from emulator.revisions import resolve_revision
from emulator.scenario import ClusterSpec, FaultsSpec, FluxSpec, OciRevisionForm, Scenario
from emulator.throttle import ArmThrottle, GraphQuota

Clock = Callable[[], float]
Key = tuple[str, str, str]
CLUSTER_EXISTS_MSG = "cluster '{name}' already exists in resource group '{group}'"
OUT_OF_BAND_USER = "someone@contoso.com"


class Backend:
    def __init__(self, scenario: Scenario, clock: Clock = time.monotonic) -> None:
        self.scenario = scenario
        self.clock = clock
        self.events = EventSink(scenario.events, scenario.arm.tenant_id)
        self.reset()

    # ----------------------------------------------------------------------------- lifecycle
    def reset(self) -> None:
        """Back to the scenario as loaded: fleet, heads, faults; writes and operations cleared."""
        scenario = self.scenario
        self.rng = random.Random(scenario.seed)
        self.flux: FluxSpec = scenario.flux.model_copy(deep=True)
        self.clusters: dict[Key, ConnectedCluster] = {}
        self.operations = Operations()
        self._blocked_deletes: dict[Key, list[str]] = {}
        self.writes: list[dict[str, Any]] = []
        self.throttled: Counter[str] = Counter()
        """429s answered, by bucket: writes, deletes, reads, resourceGraph."""
        self.graph_results: OrderedDict[str, tuple[float, list[dict[str, Any]]]] = OrderedDict()
        """Paged Resource Graph answers kept for their later pages (resourcegraph.models)."""
        self.vault = Vault(scenario.key_vault.secrets)
        self.monitor = MonitorState(scenario.monitor)
        self.queue = ReconcileQueue(self.flux, self.clock, self.rng)
        for spec in scenario.expand_clusters():
            self._insert_cluster(spec)
        self.set_faults(scenario.faults, scenario.flux.failures)
        for name in scenario.faults.offline:
            for cluster in self.clusters_named(name):
                cluster.set_connectivity("Offline")
        self.dirty = True

    def set_faults(self, spec: FaultsSpec, failures: list[Any]) -> None:
        self.faults = Faults.from_spec(spec, failures)
        self.throttle = ArmThrottle(spec.throttle, self.clock) if spec.throttle else None
        quota = spec.throttle.resource_graph if spec.throttle else None
        self.graph_quota = GraphQuota(quota, self.clock)
        self.dirty = True

    # ------------------------------------------------------------------------------ clusters
    def _insert_cluster(self, spec: ClusterSpec) -> ConnectedCluster:
        defaults = self.scenario.defaults
        cluster = ConnectedCluster(
            subscription_id=spec.subscription_id or self.scenario.subscription_id,
            resource_group=spec.resource_group or defaults.resource_group,
            name=spec.name,
            location=spec.location or defaults.location,
            tags=dict(spec.tags),
            kubernetes_version=spec.kubernetes_version or defaults.kubernetes_version,
            distribution=spec.distribution or defaults.distribution,
            infrastructure=defaults.infrastructure,
            agent_version=spec.agent_version or defaults.agent_version,
            kind=spec.kind or defaults.kind,
            connectivity_status=spec.connectivity_status,
            total_node_count=spec.total_node_count,
            total_core_count=spec.total_node_count * 4,
            tenant_id=self.scenario.arm.tenant_id,
            principal_id=str(uuid.UUID(int=self.rng.getrandbits(128))),
        )
        self.clusters[cluster.key] = cluster
        return cluster

    def add_cluster(self, spec: ClusterSpec) -> ConnectedCluster:
        defaults = self.scenario.defaults
        key = cluster_key(
            spec.subscription_id or self.scenario.subscription_id,
            spec.resource_group or defaults.resource_group,
            spec.name,
        )
        if key in self.clusters:
            raise Conflict(CLUSTER_EXISTS_MSG.format(name=spec.name, group=key[1]))
        cluster = self._insert_cluster(spec)
        self.events.resource_changed(cluster.id, CLUSTER_RESOURCE_TYPE, "PUT", cluster.id)
        self.dirty = True
        return cluster

    def remove_cluster(self, cluster: ConnectedCluster) -> None:
        del self.clusters[cluster.key]
        self.events.resource_changed(
            cluster.id, CLUSTER_RESOURCE_TYPE, "DELETE", cluster.id, deleted=True
        )
        self.dirty = True

    def find_cluster(self, subscription: str, group: str, name: str) -> ConnectedCluster | None:
        return self.clusters.get(cluster_key(subscription, group, name))

    def clusters_named(self, name: str) -> list[ConnectedCluster]:
        lowered = name.lower()
        return [c for c in self.clusters.values() if c.name.lower() == lowered]

    def clusters_in(self, subscription: str, group: str | None = None) -> list[ConnectedCluster]:
        sub, rg = subscription.lower(), group.lower() if group else None
        found = [
            cluster
            for key, cluster in self.clusters.items()
            if key[0] == sub and (rg is None or key[1] == rg)
        ]
        return sorted(found, key=lambda c: (c.resource_group.lower(), c.name.lower()))

    def set_connectivity(self, cluster: ConnectedCluster, status: str) -> None:
        was_online = cluster.online
        cluster.set_connectivity(status)
        self.events.resource_changed(cluster.id, CLUSTER_RESOURCE_TYPE, "PUT", cluster.id)
        if cluster.online and not was_online:
            self._on_reconnect(cluster)
        self.dirty = True

    def _on_reconnect(self, cluster: ConnectedCluster) -> None:
        for op_id in self._blocked_deletes.pop(cluster.key, []):
            self._finish_delete(self.operations[op_id])
        for config in cluster.configurations.values():
            if config.provisioning_state == "Succeeded" and self.needs_reconcile(config):
                self.queue.schedule(
                    cluster.key, config.name.lower(), self.faults.slow_factor(cluster)
                )

    # ------------------------------------------------------------------------ configurations
    def put_configuration(
        self,
        cluster: ConnectedCluster,
        name: str,
        properties: Any,
        api_version: str,
    ) -> tuple[FluxConfiguration, bool, Operation]:
        """Create or replace; returns (configuration, created, operation).

        A PUT replaces the whole resource: protected settings it does not carry are dropped.
        """
        spec = validate_properties(properties, api_version)
        existing = cluster.configurations.get(name.lower())
        if existing is not None and existing.deleting:
            raise FluxConfigurationBeingDeleted(DELETING_MSG.format(name=existing.name))
        if existing is not None:
            CreateOnlyPropertyChanged.check(existing.name, existing.spec, spec)
        if existing is None:
            config = FluxConfiguration(cluster_id=cluster.id, name=name, spec=spec)
            cluster.configurations[name.lower()] = config
        else:
            config = existing
            config.spec = spec
            config.generation += 1
            config.provisioning_state = "Updating"
            config.modified_at = now_iso()
        mark_pending(config)
        operation = self._start_operation(cluster, config, "write")
        return config, existing is None, operation

    def patch_configuration(
        self,
        cluster: ConnectedCluster,
        config: FluxConfiguration,
        patch: dict[str, Any],
        api_version: str,
        modified_by: str = "emulator",
    ) -> Operation:
        """JSON merge patch of ``properties`` (``null`` removes, e.g. a kustomization or one
        protected setting); protected settings the patch does not name are kept."""
        if config.deleting:
            raise FluxConfigurationBeingDeleted(DELETING_MSG.format(name=config.name))
        merged = merge_patch(config.spec, patch)
        spec = validate_properties(merged, api_version)
        CreateOnlyPropertyChanged.check(config.name, config.spec, spec)
        config.spec = spec
        config.generation += 1
        config.provisioning_state = "Updating"
        config.modified_at = now_iso()
        config.modified_by = modified_by
        mark_pending(config)
        return self._start_operation(cluster, config, "write")

    def delete_configuration(
        self, cluster: ConnectedCluster, config: FluxConfiguration, force: bool
    ) -> Operation:
        config.provisioning_state = "Deleting"
        operation = self._start_operation(cluster, config, "delete")
        if force:
            self._finish_delete(operation)
        return operation

    def edit_out_of_band(
        self, cluster: ConnectedCluster, config: FluxConfiguration, patch: dict[str, Any]
    ) -> None:
        """Someone else changed the configuration (portal, az CLI): drift for arcwave to see."""
        self.patch_configuration(cluster, config, patch, "2025-04-01", modified_by=OUT_OF_BAND_USER)
        self.events.resource_changed(config.id, FLUX_RESOURCE_TYPE, "PATCH", config.id)

    def _start_operation(
        self, cluster: ConnectedCluster, config: FluxConfiguration, kind: Literal["write", "delete"]
    ) -> Operation:
        done_at = self.clock() + self.scenario.arm.operation_seconds
        operation = Operation(str(uuid.uuid4()), cluster.key, config.name.lower(), kind, done_at)
        self.dirty = True
        return self.operations.add(operation)

    def _finish_write(self, operation: Operation) -> None:
        operation.finish()
        cluster = self.clusters.get(operation.cluster_key)
        config = cluster.configurations.get(operation.configuration) if cluster else None
        if cluster is None or config is None or config.deleting:
            return
        config.provisioning_state = "Succeeded"
        if config.spec.get("suspend"):
            config.compliance_state = SUSPENDED
            config.observed_generation = config.generation
        elif cluster.online:
            self.queue.schedule(cluster.key, config.name.lower(), self.faults.slow_factor(cluster))

    def _finish_delete(self, operation: Operation) -> None:
        if operation.status != "InProgress":
            return
        operation.finish()
        cluster = self.clusters.get(operation.cluster_key)
        if cluster is not None:
            config = cluster.configurations.pop(operation.configuration, None)
            if config is not None:
                self.events.resource_changed(
                    config.id, FLUX_RESOURCE_TYPE, "DELETE", config.id, deleted=True
                )
        self.dirty = True

    # ---------------------------------------------------------------------------------- flux
    def needs_reconcile(self, config: FluxConfiguration) -> bool:
        if config.deleting or config.spec.get("suspend"):
            return False
        if config.observed_generation != config.generation:
            return True
        if config.follows_branch:
            return self.flux.branch_heads.get(config.branch or "") != config.observed_revision
        return False

    def move_branch(self, branch: str, sha: str) -> int:
        """Point ``branch`` at ``sha``; every online config following it reconciles. Returns
        how many were scheduled."""
        self.flux.branch_heads[branch] = sha
        scheduled = 0
        for cluster in self.clusters.values():
            if not cluster.online:
                continue
            for config in cluster.configurations.values():
                if (
                    config.follows_branch
                    and config.branch == branch
                    and self.needs_reconcile(config)
                ):
                    self.queue.schedule(
                        cluster.key, config.name.lower(), self.faults.slow_factor(cluster)
                    )
                    scheduled += 1
        self.dirty = True
        return scheduled

    def advance(self, now: float | None = None) -> None:
        """Finish due operations and run due reconciles."""
        now = self.clock() if now is None else now
        for operation in self.operations.due(now):
            if operation.kind == "write":
                self._finish_write(operation)
                self.dirty = True
                continue
            cluster = self.clusters.get(operation.cluster_key)
            if cluster is not None and not cluster.online:
                self._blocked_deletes.setdefault(cluster.key, []).append(operation.id)
            else:
                self._finish_delete(operation)
        for key, name in self.queue.pop_due(now):
            self._reconcile(key, name)

    def oci_revision_form(self, cluster: ConnectedCluster) -> OciRevisionForm:
        """How this cluster reports OCI revisions: the first matching rule, else the default."""
        for rule in self.flux.oci_revision_rules:
            if selector_matches(rule.clusters, cluster):
                return rule.form
        return self.flux.oci_revision_form

    def retry_failed_sources(self) -> int:
        """Flux retries a source it could not fetch; the emulator does so when ``flux.sources``
        change. Returns how many configurations were scheduled."""
        scheduled = 0
        for cluster in self.clusters.values():
            if not cluster.online:
                continue
            for config in cluster.configurations.values():
                source = config.statuses[0] if config.statuses else {}
                conditions = source.get("statusConditions") or [{}]
                if (
                    source.get("kind") != "Kustomization"
                    and conditions[0].get("reason") == AUTHENTICATION_FAILED
                    and config.provisioning_state == "Succeeded"
                    and not config.spec.get("suspend")
                ):
                    config.observed_generation = 0
                    self.queue.schedule(
                        cluster.key, config.name.lower(), self.faults.slow_factor(cluster)
                    )
                    scheduled += 1
        self.dirty = True
        return scheduled

    def reconcile_now(self) -> int:
        """Run every pending reconcile at once (``manual`` progression, or impatience)."""
        self.advance()
        items = self.queue.pop_all()
        for key, name in items:
            self._reconcile(key, name)
        return len(items)

    def _reconcile(self, key: Key, name: str) -> None:
        cluster = self.clusters.get(key)
        config = cluster.configurations.get(name) if cluster else None
        if cluster is None or config is None or not cluster.online:
            return
        if not self.needs_reconcile(config):
            return
        revision = resolve_revision(config, self.flux, self.oci_revision_form(cluster))
        auth_error = source_auth_error(config, self.flux.sources)
        if auth_error is not None:
            revision = replace(revision, sha="", error=auth_error, reason=AUTHENTICATION_FAILED)
        failure = self.faults.failure_for(revision.sha, cluster) if revision.sha else None
        outcome = Outcome(
            cluster=cluster,
            configuration=config,
            revision=revision,
            failure=failure,
            failed_kustomization=failed_kustomization(config, failure),
            elapsed=self.rng.uniform(0.5, 3.0),
        )
        apply_outcome(outcome)
        self.events.flux_reconciled(outcome)
        self.dirty = True

    # ----------------------------------------------------------------------------- write log
    def record_write(
        self,
        cluster_id: str,
        cluster: str,
        configuration: str,
        method: str,
        repository_ref: dict[str, Any] | None,
        status: int,
    ) -> None:
        ref = repository_ref or {}
        self.writes.append(
            {
                "time": now_iso(),
                "clusterId": cluster_id,
                "cluster": cluster,
                "configuration": configuration,
                "method": method,
                "commit": ref.get("commit") or None,
                "branch": ref.get("branch") or None,
                "status": status,
            }
        )
        self.dirty = True
