"""Connected cluster state and its ARM / Resource Graph shapes."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from emulator.arm import CLUSTER_RESOURCE_TYPE, cluster_id, now_iso
from emulator.resourcegraph.rows import arg_row
from emulator.statefields import state_fields

if TYPE_CHECKING:
    from emulator.fluxconfigurations.models import FluxConfiguration

CONNECTIVITY_STATES = ("Connecting", "Connected", "Offline", "Expired", "AgentNotInstalled")
ONLINE = "Connected"
AGENT_NOT_INSTALLED = "AgentNotInstalled"
AGENT_NOT_INSTALLED_SINCE = "2026-03-01"
"""The connectedClusters api-version whose ``connectivityStatus`` enum adds AgentNotInstalled."""
AGENT_NOT_INSTALLED_BEFORE = "Connecting"
"""What older api-versions report instead: the resource exists, no agent heartbeat yet."""


def connectivity_for(status: str, api_version: str | None) -> str:
    """``connectivityStatus`` as ``api_version`` spells it (None: the newest, as ARG)."""
    if (
        status == AGENT_NOT_INSTALLED
        and api_version is not None
        and api_version[:10] < AGENT_NOT_INSTALLED_SINCE
    ):
        return AGENT_NOT_INSTALLED_BEFORE
    return status


CONNECTIVITY_INVALID_MSG = "connectivityStatus must be one of {states}, got '{value}'"


@dataclass
class ConnectedCluster:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    tags: dict[str, str]
    kubernetes_version: str
    distribution: str
    infrastructure: str
    agent_version: str
    kind: str
    connectivity_status: str = ONLINE
    total_node_count: int = 3
    total_core_count: int = 12
    last_connectivity_time: str = field(default_factory=now_iso)
    created_at: str = field(default_factory=now_iso)
    tenant_id: str = "00000000-0000-0000-0000-0000000000aa"
    principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    configurations: dict[str, FluxConfiguration] = field(default_factory=dict)
    _row: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _row_stamp: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def id(self) -> str:
        return cluster_id(self.subscription_id, self.resource_group, self.name)

    @property
    def key(self) -> tuple[str, str, str]:
        return cluster_key(self.subscription_id, self.resource_group, self.name)

    @property
    def online(self) -> bool:
        return self.connectivity_status == ONLINE

    def set_connectivity(self, status: str) -> None:
        if status not in CONNECTIVITY_STATES:
            raise ValueError(
                CONNECTIVITY_INVALID_MSG.format(states=", ".join(CONNECTIVITY_STATES), value=status)
            )
        if status == ONLINE or self.connectivity_status == ONLINE:
            self.last_connectivity_time = now_iso()
        self.connectivity_status = status

    @cached_property
    def agent_public_key(self) -> str:
        return _public_key(self.id)

    def properties(self, live: bool = True, api_version: str | None = None) -> dict[str, Any]:
        """ARM reports an online cluster as seen just now; ``live=False`` keeps the stored time.

        ``api_version`` None is the newest shape (Resource Graph's rows)."""
        last_seen = now_iso() if live and self.online else self.last_connectivity_time
        return {
            "agentPublicKeyCertificate": self.agent_public_key,
            "kubernetesVersion": self.kubernetes_version,
            "totalNodeCount": self.total_node_count,
            "totalCoreCount": self.total_core_count,
            "agentVersion": self.agent_version,
            "provisioningState": "Succeeded",
            "distribution": self.distribution,
            "distributionVersion": None,
            "infrastructure": self.infrastructure,
            "offering": None,
            "lastConnectivityTime": last_seen,
            "connectivityStatus": connectivity_for(self.connectivity_status, api_version),
            "managedIdentityCertificateExpirationTime": None,
            "privateLinkState": "Disabled",
        }

    def to_arm(self, api_version: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": CLUSTER_RESOURCE_TYPE,
            "location": self.location,
            "kind": self.kind,
            "tags": dict(self.tags),
            "identity": {
                "type": "SystemAssigned",
                "principalId": self.principal_id,
                "tenantId": self.tenant_id,
            },
            "systemData": {
                "createdBy": "emulator",
                "createdByType": "Application",
                "createdAt": self.created_at,
                "lastModifiedBy": "emulator",
                "lastModifiedByType": "Application",
                "lastModifiedAt": self.last_connectivity_time,
            },
            "properties": self.properties(api_version=api_version),
        }

    def to_arg_row(self) -> dict[str, Any]:
        """The ``resources`` table row: ARG lower-cases ``type`` and ``resourceGroup``.

        Rows are cached until the cluster changes, so a query over thousands of clusters does
        not rebuild them; callers must not mutate the returned row.
        """
        stamp = (
            self.connectivity_status,
            self.last_connectivity_time,
            self.kubernetes_version,
            self.agent_version,
            tuple(self.tags.items()),
        )
        if self._row is None or stamp != self._row_stamp:
            self._row, self._row_stamp = self._build_arg_row(), stamp
        return self._row

    def _build_arg_row(self) -> dict[str, Any]:
        identity = {"type": "SystemAssigned", "principalId": self.principal_id}
        return arg_row(
            self.id,
            self.tenant_id,
            kind=self.kind,
            location=self.location,
            properties=self.properties(live=False),
            tags=dict(self.tags),
            identity={**identity, "tenantId": self.tenant_id},
        )

    def to_state(self) -> dict[str, Any]:
        state = state_fields(self, skip={"total_core_count", "configurations"})
        state["configurations"] = [c.to_state() for c in self.configurations.values()]
        return state

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ConnectedCluster:
        from emulator.fluxconfigurations.models import FluxConfiguration

        cluster = cls(
            subscription_id=data["subscriptionId"],
            resource_group=data["resourceGroup"],
            name=data["name"],
            location=data["location"],
            tags=dict(data.get("tags") or {}),
            kubernetes_version=data["kubernetesVersion"],
            distribution=data["distribution"],
            infrastructure=data["infrastructure"],
            agent_version=data["agentVersion"],
            kind=data["kind"],
            connectivity_status=data["connectivityStatus"],
            total_node_count=data.get("totalNodeCount", 3),
            last_connectivity_time=data["lastConnectivityTime"],
            created_at=data["createdAt"],
            tenant_id=data["tenantId"],
            principal_id=data["principalId"],
        )
        for item in data.get("configurations", []):
            config = FluxConfiguration.from_state(item, cluster.id)
            cluster.configurations[config.name.lower()] = config
        return cluster


def cluster_key(subscription_id: str, resource_group: str, name: str) -> tuple[str, str, str]:
    """ARM names are case-insensitive; state is keyed by the lower-cased triple."""
    return (subscription_id.lower(), resource_group.lower(), name.lower())


def _public_key(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()
