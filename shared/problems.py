"""Validation problems in one shape, for the API (400 bodies), the CLI and the logs.

`{"loc": "waves[1].maxFailures", "type": "count_or_percent", "msg": "...", "input": "1O%"}`:
`loc` is the path as the operator wrote it (camelCase, `[i]` for list items), every problem is
reported at once, and an unknown field says which fields exist and which one was likely meant.

Whatever the input, what is shown stays small: at most `MAX_SHOWN` problems and
`MAX_WIRE_BYTES` of them (then one `{"type": "more", "msg": "and N more problems"}` entry),
each `loc`, `type` and `msg` cut, and each echoed `input` a scalar or a short repr, never the
value expanded. A 400 body is a few KiB.
"""

import difflib
import json
import math
import reprlib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

Loc = Sequence[str | int]

MAX_SHOWN = 20
"""Problems shown in an answer or a message; the rest are counted in one last entry."""
MAX_INPUT_CHARS = 80
"""The longest echoed input: a longer string, or any list or mapping, becomes a short repr."""
MAX_LOC_CHARS = 200
MAX_TYPE_CHARS = 60
MAX_MSG_CHARS = 300
MAX_WIRE_BYTES = 8 * 1024
"""The most the shown problems take as JSON (the first one is always shown)."""

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 2
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxdict = 4
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlong = 40


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by its path."""

    loc: str
    type: str
    msg: str
    input: Any = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "loc": cut(self.loc, MAX_LOC_CHARS),
            "type": cut(self.type, MAX_TYPE_CHARS),
            "msg": cut(self.msg, MAX_MSG_CHARS),
            "input": echo(self.input),
        }

    def __str__(self) -> str:
        msg = cut(self.msg, MAX_MSG_CHARS)
        return f"{cut(self.loc, MAX_LOC_CHARS)}: {msg}" if self.loc else msg


class InvalidInput(ValueError):
    """Raised with every problem found in one input (a track spec, a fleet file, a body).

    `problems` holds them all; its message and `to_wire()` show the first `MAX_SHOWN`."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.what = cut(what, MAX_LOC_CHARS)
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"  {p}" for p in self.problems[:MAX_SHOWN]]
        if count > MAX_SHOWN:
            lines.append(f"  {_more(count - MAX_SHOWN)}")
        super().__init__(f"invalid {self.what} ({count} {noun}):\n" + "\n".join(lines))

    def to_wire(self) -> dict[str, Any]:
        shown: list[dict[str, Any]] = []
        size = 0
        for problem in self.problems[:MAX_SHOWN]:
            entry = problem.to_wire()
            size += len(json.dumps(entry))
            if shown and size > MAX_WIRE_BYTES:
                break
            shown.append(entry)
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            shown.append(Problem("", "more", _more(hidden)).to_wire())
        return {"error": f"invalid {self.what}", "errors": shown}


def _more(count: int) -> str:
    return f"and {count} more problem{'' if count == 1 else 's'}"


def cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (marked with `…`), so no input makes it long."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def echo(value: Any) -> Any:
    """What an answer shows of an input: a scalar as it is (a long string cut), anything
    else as a short repr that never expands the value (depth, items and length bounded)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return cut(value, MAX_INPUT_CHARS)
    return cut(short_repr(value), MAX_INPUT_CHARS)


def short_repr(value: Any) -> str:
    """`repr(value)` bounded in depth, items and length, whatever `value` holds."""
    try:
        return cut(_SHORT.repr(value), MAX_INPUT_CHARS)
    except Exception:  # a repr that fails (or recurses) says what the value is instead
        return f"<{type(value).__name__}>"


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
            msg = f"{msg}, got {short_repr(value)}"
        elif kind == "secret_reference":
            value = None  # what was given where a reference belongs may be the secret itself
        problems.append(Problem(loc=format_loc(loc), type=kind, msg=msg, input=value))
    return problems


def _clean_loc(loc: Loc) -> list[str | int]:
    # pydantic adds the tag of a union branch or a validator name ("function-after[...]").
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "list"}))]


def _unknown_field_msg(model: type[BaseModel] | None, loc: Loc) -> str:
    field = cut(str(loc[-1]), MAX_INPUT_CHARS)
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
