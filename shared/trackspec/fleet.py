"""Which clusters a track covers: Azure subscriptions, optionally narrowed by resource group
and tags."""

import re
from typing import Any

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from shared.trackspec.rules import check_tag_map
from shared.wire import WireModel

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_RESOURCE_GROUP = re.compile(r"[-\w._()]{1,90}")


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
        return check_tag_map(value)
