"""Small helpers shared by test modules."""

import typing
from typing import Any

from pydantic import BaseModel


def model_field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every wire field of `model` as a dotted path (`waves[].maxFailures`), nested models too."""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        paths.append(path)
        nested, suffix = _nested_model(field.annotation)
        if nested is not None:
            paths.extend(model_field_paths(nested, f"{path}{suffix}."))
    return paths


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        inner, _ = _nested_model(args[0])
        return inner, "[]"
    if origin is dict and args:
        inner, _ = _nested_model(args[1])
        return inner, ".X"
    return None, ""
