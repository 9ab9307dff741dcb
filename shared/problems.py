"""Validation problems in one shape, for the API (400 bodies), the CLI and the logs.

`{"loc": "waves[1].maxFailures", "type": "count_or_percent", "msg": "...", "input": "1O%"}`:
`loc` is the path as the operator wrote it (camelCase, `[i]` for list items), every problem is
reported at once, and an unknown field says which fields exist and which one was likely meant.
"""

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

Loc = Sequence[str | int]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by its path."""

    loc: str
    type: str
    msg: str
    input: Any = None

    def to_wire(self) -> dict[str, Any]:
        return {"loc": self.loc, "type": self.type, "msg": self.msg, "input": _jsonable(self.input)}

    def __str__(self) -> str:
        return f"{self.loc}: {self.msg}" if self.loc else self.msg


class InvalidInput(ValueError):
    """Raised with every problem found in one input (a track spec, a fleet file, a body)."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid {what} ({count} {noun}):\n{lines}")

    def to_wire(self) -> dict[str, Any]:
        return {"error": f"invalid {self.what}", "errors": [p.to_wire() for p in self.problems]}


def format_loc(loc: Loc) -> str:
    """`("waves", 1, "maxFailures")` → `waves[1].maxFailures`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problems_from(
    error: ValidationError, model: type[BaseModel] | None = None, prefix: Loc = ()
) -> list[Problem]:
    """Turn pydantic's errors into problems, with clearer text for the common cases."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(prefix) + tuple(_clean_loc(item["loc"]))
        kind = item["type"]
        msg = item["msg"]
        value = item.get("input")
        if kind == "extra_forbidden":
            kind, msg = "unknown_field", _unknown_field_msg(model, item["loc"])
        elif kind == "missing":
            msg = "required field is missing"
            value = None
        elif kind in {"literal_error", "enum"}:
            msg = f"{msg}, got {value!r}"
        elif kind == "secret_reference":
            value = None  # what was given where a reference belongs may be the secret itself
        problems.append(Problem(loc=format_loc(loc), type=kind, msg=msg, input=value))
    return problems


def _clean_loc(loc: Loc) -> list[str | int]:
    # pydantic adds the tag of a union branch or a validator name ("function-after[...]").
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "list"}))]


def _unknown_field_msg(model: type[BaseModel] | None, loc: Loc) -> str:
    field = str(loc[-1])
    allowed = _fields_at(model, loc[:-1]) if model else []
    if not allowed:
        return f"unknown field '{field}'"
    guess = difflib.get_close_matches(field, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean '{guess[0]}'?)" if guess else ""
    return f"unknown field '{field}'{hint}; allowed: {', '.join(allowed)}"


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The wire names of the fields of the model found by walking `loc` from `model`."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    inner = _model_in(current)
    if inner is None:
        return []
    return [f.alias or name for name, f in inner.model_fields.items()]


def _step(annotation: Any, part: str | int) -> Any:
    model = _model_in(annotation)
    if model is not None and isinstance(part, str):
        for name, field in model.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    for arg in _args(annotation):
        origin = typing.get_origin(arg)
        if origin in (list, tuple) or (origin is dict and isinstance(part, str)):
            return typing.get_args(arg)[-1]
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for arg in _args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _args(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _args(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _args(arg)]
    return [annotation]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
