"""fluxConfiguration state: the desired spec from ARM writes and the status Flux reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.arm import FLUX_RESOURCE_TYPE, configuration_id, now_iso
from emulator.resourcegraph.rows import arg_row
from emulator.statefields import state_fields

COMPLIANT = "Compliant"
NON_COMPLIANT = "Non-Compliant"
PENDING = "Pending"
SUSPENDED = "Suspended"
UNKNOWN = "Unknown"
VERSION_ONLY_FIELDS = {
    "2023-05-01": {"ociRepository"},
}
"""Properties an older api-version does not have, left out of its answers."""


@dataclass
class FluxConfiguration:
    """One configuration. ``generation`` counts spec writes; Flux reports ``observed_*``."""

    cluster_id: str
    name: str
    spec: dict[str, Any]
    provisioning_state: str = "Creating"
    compliance_state: str = PENDING
    statuses: list[dict[str, Any]] = field(default_factory=list)
    source_synced_commit_id: str | None = None
    source_updated_at: str | None = None
    status_updated_at: str | None = None
    error_message: str | None = None
    generation: int = 1
    observed_generation: int = 0
    observed_revision: str | None = None
    created_at: str = field(default_factory=now_iso)
    modified_at: str = field(default_factory=now_iso)
    created_by: str = "emulator"
    modified_by: str = "emulator"
    _row: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _row_stamp: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def id(self) -> str:
        return configuration_id(self.cluster_id, self.name)

    @property
    def deleting(self) -> bool:
        return self.provisioning_state == "Deleting"

    @property
    def source_kind(self) -> str:
        return str(self.spec.get("sourceKind", "GitRepository"))

    @property
    def repository_ref(self) -> dict[str, Any]:
        git = self.spec.get("gitRepository") or {}
        return git.get("repositoryRef") or {}

    @property
    def pinned_commit(self) -> str | None:
        return self.repository_ref.get("commit") or None

    @property
    def branch(self) -> str | None:
        return self.repository_ref.get("branch") or None

    @property
    def follows_branch(self) -> bool:
        """Following a branch head: a GitRepository with a branch and nothing more specific."""
        ref = self.repository_ref
        return (
            self.spec.get("sourceKind") == "GitRepository"
            and bool(ref.get("branch"))
            and not (ref.get("commit") or ref.get("tag") or ref.get("semver"))
        )

    def properties(self, api_version: str = "2025-04-01") -> dict[str, Any]:
        """Wire ``properties`` for ``api_version``.

        Built shallowly: nested values are shared with the stored spec and status, which are
        replaced on every change and never edited in place, so answers stay consistent without
        paying for a deep copy on every read.
        """
        hidden = VERSION_ONLY_FIELDS.get(api_version, set()) | {"configurationProtectedSettings"}
        spec = {key: value for key, value in self.spec.items() if key not in hidden}
        git = spec.get("gitRepository")
        if api_version < "2024-11-01" and git and "provider" in git:
            spec["gitRepository"] = {k: v for k, v in git.items() if k != "provider"}
        spec.update(
            {
                "statuses": self.statuses,
                "repositoryPublicKey": "",
                "sourceSyncedCommitId": self.source_synced_commit_id,
                "sourceUpdatedAt": self.source_updated_at,
                "statusUpdatedAt": self.status_updated_at,
                "complianceState": self.compliance_state,
                "provisioningState": self.provisioning_state,
                "errorMessage": self.error_message or "",
            }
        )
        return spec

    def to_arm(self, api_version: str = "2025-04-01") -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": FLUX_RESOURCE_TYPE,
            "systemData": {
                "createdBy": self.created_by,
                "createdByType": "Application",
                "createdAt": self.created_at,
                "lastModifiedBy": self.modified_by,
                "lastModifiedByType": "Application",
                "lastModifiedAt": self.modified_at,
            },
            "properties": self.properties(api_version),
        }

    def to_arg_row(self, tenant_id: str) -> dict[str, Any]:
        """The ``kubernetesconfigurationresources`` row (ARG lower-cases type and group).

        Cached until the configuration changes; callers must not mutate the returned row.
        """
        stamp = (
            self.generation,
            self.provisioning_state,
            self.compliance_state,
            self.status_updated_at,
            self.modified_at,
            self.source_synced_commit_id,
            id(self.statuses),
        )
        if self._row is None or stamp != self._row_stamp:
            self._row, self._row_stamp = self._build_arg_row(tenant_id), stamp
        return self._row

    def _build_arg_row(self, tenant_id: str) -> dict[str, Any]:
        return arg_row(self.id, tenant_id, properties=self.properties())

    def to_state(self) -> dict[str, Any]:
        return state_fields(self, skip={"cluster_id"})

    @classmethod
    def from_state(cls, data: dict[str, Any], cluster_id: str) -> FluxConfiguration:
        return cls(
            cluster_id=cluster_id,
            name=data["name"],
            spec=data["spec"],
            provisioning_state=data["provisioningState"],
            compliance_state=data["complianceState"],
            statuses=data.get("statuses") or [],
            source_synced_commit_id=data.get("sourceSyncedCommitId"),
            source_updated_at=data.get("sourceUpdatedAt"),
            status_updated_at=data.get("statusUpdatedAt"),
            error_message=data.get("errorMessage"),
            generation=data.get("generation", 1),
            observed_generation=data.get("observedGeneration", 0),
            observed_revision=data.get("observedRevision"),
            created_at=data.get("createdAt") or now_iso(),
            modified_at=data.get("modifiedAt") or now_iso(),
            created_by=data.get("createdBy", "emulator"),
            modified_by=data.get("modifiedBy", "emulator"),
        )
