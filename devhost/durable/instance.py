"""The instance record: one orchestration instance as the store keeps it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RuntimeStatus(StrEnum):
    """The Durable runtime statuses, spelled as the HTTP API answers them."""

    Running = "Running"
    Pending = "Pending"
    Completed = "Completed"
    ContinuedAsNew = "ContinuedAsNew"
    Failed = "Failed"
    Canceled = "Canceled"
    Terminated = "Terminated"
    Suspended = "Suspended"

    @classmethod
    def parse(cls, text: str) -> RuntimeStatus | None:
        """The status a client names in any case (`runtimeStatus=running`), None if unknown."""
        return _BY_LOWER_NAME.get(text.strip().lower())


_BY_LOWER_NAME = {status.value.lower(): status for status in RuntimeStatus}

#: Statuses of an instance that may still change; `start_new` refuses to replace one.
RUNNING = frozenset(
    {
        RuntimeStatus.Running,
        RuntimeStatus.Pending,
        RuntimeStatus.Suspended,
        RuntimeStatus.ContinuedAsNew,
    }
)
#: Statuses of a finished instance, in the order error messages list them.
TERMINAL = (
    RuntimeStatus.Completed,
    RuntimeStatus.Failed,
    RuntimeStatus.Terminated,
    RuntimeStatus.Canceled,
)


@dataclass(frozen=True)
class Parent:
    """The orchestration that started a sub-orchestration, and its task that waits for it."""

    instance_id: str
    execution_id: str
    task_id: int


@dataclass(frozen=True)
class Instance:
    """One row of the `instances` table.

    `input`, `output` and `custom_status` are JSON text as stored (a terminate reason may be
    plain text); `created` and `updated` are history timestamps (`fmt_time`), which sort.
    `engine` is the engine state as JSON (sequence ids, pending retries). Every commit bumps
    `version`, so an episode that finds another version knows it lost a race.
    """

    instance_id: str
    name: str
    execution_id: str
    status: RuntimeStatus
    input: str | None
    created: str
    updated: str
    output: str | None = None
    custom_status: str | None = None
    parent: Parent | None = None
    engine: str = "{}"
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def revised(self, updated: str, **changes: Any) -> Instance:
        """The next version of the record, last updated at `updated`, with `changes`."""
        return dataclasses.replace(self, updated=updated, version=self.version + 1, **changes)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Instance:
        """The record of a row as `Store` reads it (column name to value)."""
        parent = None
        if row["parent_instance"] is not None:
            parent = Parent(row["parent_instance"], row["parent_execution"], row["parent_task"])
        return cls(
            instance_id=row["instance_id"],
            name=row["name"],
            execution_id=row["execution_id"],
            status=RuntimeStatus(row["status"]),
            input=row["input"],
            created=row["created"],
            updated=row["updated"],
            output=row["output"],
            custom_status=row["custom_status"],
            parent=parent,
            engine=row["engine"],
            version=row["version"],
        )

    def row(self) -> dict[str, Any]:
        """The record as the columns of the `instances` table."""
        parent = self.parent
        return {
            "instance_id": self.instance_id,
            "name": self.name,
            "execution_id": self.execution_id,
            "status": self.status.value,
            "input": self.input,
            "output": self.output,
            "custom_status": self.custom_status,
            "created": self.created,
            "updated": self.updated,
            "parent_instance": parent.instance_id if parent else None,
            "parent_execution": parent.execution_id if parent else None,
            "parent_task": parent.task_id if parent else None,
            "engine": self.engine,
            "version": self.version,
        }
