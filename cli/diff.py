"""`arcwave tracks diff`: what applying a file would change in a track's spec.

Both sides are compared as the app stores them: validated by `shared.trackspec` with every
default filled in (`TrackSpec.to_wire()`), so a file that leaves a default out does not
differ from a stored spec that spells it out. Fields are compared leaf by leaf:

    configuration.namespace        changed   flux-system → apps   create-only
    waves[1].soak                  added     10m
    waves[2].perSiteConcurrency    removed   1

Lists of names or values (`fleet.subscriptions`, `dependsOn`) are one field; lists of
objects (`waves`) are compared item by item. `configuration.scope` and `.namespace` are
create-only in Azure: changing them re-creates the configuration on every cluster (the app
asks for `?recreate=true`, `arcwave tracks apply --recreate`) unless the configuration is
renamed too, which creates a new one beside the old.
"""

from dataclasses import dataclass
from typing import Any

from shared.problems import InvalidInput
from shared.trackspec import validate_track_spec

CREATE_ONLY = ("configuration.scope", "configuration.namespace")
RENAME = "configuration.name"


@dataclass(frozen=True)
class Change:
    path: str
    change: str
    """`added`, `removed` or `changed`."""
    before: Any
    after: Any

    @property
    def create_only(self) -> bool:
        return self.path in CREATE_ONLY

    def to_wire(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "createOnly": self.create_only,
        }


def normalised(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored spec as this version of arcwave writes it (defaults filled in); the spec as
    it is when this version cannot read it (a newer app's field)."""
    try:
        return validate_track_spec(spec).to_wire()
    except InvalidInput:
        return spec


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """Every leaf that differs, in the order the fields appear (the file's, then the app's).
    A field set to null (an unset optional field) counts as absent; an empty mapping has no
    leaves."""
    old = dict(_leaves(before, "")) if before is not None else {}
    new = dict(_leaves(after, ""))
    found: list[Change] = []
    for path, value in new.items():
        was = old.get(path)
        if was == value:
            continue
        if was is None:
            found.append(Change(path, "added", None, value))
        elif value is None:
            found.append(Change(path, "removed", was, None))
        else:
            found.append(Change(path, "changed", was, value))
    found.extend(
        Change(path, "removed", value, None)
        for path, value in old.items()
        if path not in new and value is not None
    )
    return found


def recreates(found: list[Change]) -> list[Change]:
    """The create-only changes that re-create the configuration (not when it is renamed)."""
    renamed = any(c.path == RENAME and c.change == "changed" for c in found)
    return [] if renamed else [c for c in found if c.create_only and c.change == "changed"]


def _leaves(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        leaves = []
        for key, item in value.items():
            leaves.extend(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        leaves = []
        for index, item in enumerate(value):
            leaves.extend(_leaves(item, f"{prefix}[{index}]"))
        return leaves
    return [(prefix, value)]
