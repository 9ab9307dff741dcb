"""Clusters as arcwave sees them: an Arc connected cluster's id, name, tags and connectivity.

A fleet file is a JSON array of clusters or a Resource Graph response (`{"data": [...]}`).
Resource Graph rows carry many more columns than arcwave needs; they are ignored, and
`properties.connectivityStatus` is lifted to `connectivityStatus`.
"""

import re
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.problems import InvalidInput, Problem, problems_from
from shared.wire import WireModel

EXCLUDE_TAG = "arcwave.io/exclude"
"""A cluster tagged `arcwave.io/exclude=true` is left out of every plan."""

EXCLUDE_REASON_TAG = "arcwave.io/exclude-reason"
"""Optional free text saying why a cluster is excluded; shown in the plan."""

_CLUSTER_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.Kubernetes/connectedClusters/(?P<name>[^/]+)",
    re.IGNORECASE,
)


class Connectivity(StrEnum):
    """`connectivityStatus` of an Arc connected cluster."""

    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    OFFLINE = "Offline"
    EXPIRED = "Expired"
    """No heartbeat for longer than the agent's certificate lives (90 days): re-onboard."""
    AGENT_NOT_INSTALLED = "AgentNotInstalled"
    """The resource exists but the Arc agents are not on the cluster (api-version 2026-03-01)."""

    @property
    def is_offline(self) -> bool:
        """Not reachable now: Flux on it will not act on a write until it is back."""
        return self in (
            Connectivity.OFFLINE,
            Connectivity.EXPIRED,
            Connectivity.AGENT_NOT_INSTALLED,
        )


class Cluster(WireModel):
    """One Arc-enabled Kubernetes cluster of the fleet."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    tags: dict[str, str] = Field(default_factory=dict)
    resource_group: str | None = None
    subscription_id: str | None = None
    location: str | None = None
    connectivity_status: Connectivity | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_from_id_and_properties(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        row = dict(data)
        props = row.get("properties")
        if isinstance(props, dict) and "connectivityStatus" not in row:
            row["connectivityStatus"] = props.get("connectivityStatus")
        if row.get("tags") is None:
            row["tags"] = {}
        match = _CLUSTER_ID.fullmatch(row["id"]) if isinstance(row.get("id"), str) else None
        if match:
            row.setdefault("name", match["name"])
            row.setdefault("subscriptionId", match["sub"])
            row.setdefault("resourceGroup", match["rg"])
        return row

    @field_validator("connectivity_status", mode="before")
    @classmethod
    def _known_connectivity(cls, value: Any) -> Any:
        # Resource Graph may report states arcwave does not act on; treat them as unknown.
        if isinstance(value, str) and value not in Connectivity.__members__.values():
            return None
        return value

    def tag(self, key: str) -> str | None:
        """A tag's value; tag names are case-insensitive in Azure."""
        if key in self.tags:
            return self.tags[key]
        lowered = key.lower()
        for name, value in self.tags.items():
            if name.lower() == lowered:
                return value
        return None

    @property
    def is_offline(self) -> bool:
        return self.connectivity_status is not None and self.connectivity_status.is_offline

    @property
    def exclusion(self) -> str | None:
        """Why the cluster opted out of rollouts, or None when it did not."""
        if (self.tag(EXCLUDE_TAG) or "").strip().lower() != "true":
            return None
        note = (self.tag(EXCLUDE_REASON_TAG) or "").strip()
        return f"tag {EXCLUDE_TAG}=true" + (f": {note}" if note else "")


def parse_fleet(data: Any) -> list[Cluster]:
    """Read a fleet: a list of clusters or a Resource Graph response; report every problem."""
    rows = data.get("data") if isinstance(data, dict) else data
    if isinstance(data, dict) and "data" not in data:
        raise InvalidInput(
            "fleet",
            [
                Problem(
                    "data",
                    "missing",
                    "a fleet object must be a Resource Graph response with "
                    "'data' (a list of clusters); or give a JSON array of clusters",
                )
            ],
        )
    if not isinstance(rows, list):
        where = "data" if isinstance(data, dict) else ""
        raise InvalidInput(
            "fleet",
            [Problem(where, "list_type", "expected a list of clusters", type(rows).__name__)],
        )
    prefix = "data" if isinstance(data, dict) else "fleet"
    clusters: list[Cluster] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            cluster = Cluster.model_validate(row)
        except ValidationError as error:
            problems.extend(problems_from(error, Cluster, prefix=(prefix, index)))
            continue
        key = cluster.id.lower()
        if key in seen:
            problems.append(
                Problem(
                    f"{prefix}[{index}].id",
                    "duplicate",
                    f"duplicate of {prefix}[{seen[key]}].id",
                    cluster.id,
                )
            )
            continue
        seen[key] = index
        clusters.append(cluster)
    if problems:
        raise InvalidInput("fleet", problems)
    return clusters
