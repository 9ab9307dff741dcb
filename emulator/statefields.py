"""How the fleet's models are written to the ``--state`` file: their fields, camelCase."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from typing import Any

from pydantic.alias_generators import to_camel


def state_fields(model: Any, *, skip: Collection[str] = ()) -> dict[str, Any]:
    """The dataclass fields of ``model`` by camelCase name, in the order they are declared;
    private fields (a leading underscore) and ``skip`` are left out."""
    return {
        to_camel(field.name): getattr(model, field.name)
        for field in fields(model)
        if not field.name.startswith("_") and field.name not in skip
    }
