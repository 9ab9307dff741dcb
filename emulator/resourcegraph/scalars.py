"""KQL value semantics over JSON values: text form, equality, ordering, operators, functions.

Property access into dynamic values (``tags['ring']``, ``properties.connectivityStatus``) is
case-sensitive, as in KQL. Tag *values* compare as the operator says (``==`` case-sensitive,
``=~`` / ``in~`` not).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any


def to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equals(left: Any, right: Any) -> bool:
    if is_number(left) and is_number(right):
        return bool(left == right)
    return to_str(left) == to_str(right)


def equals_ci(left: Any, right: Any) -> bool:
    return to_str(left).lower() == to_str(right).lower()


def order_key(value: Any) -> tuple[int, Any]:
    """Nulls first, then booleans and numbers, then strings, then everything else as text."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if is_number(value):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, to_str(value))


def compare(op: str, left: Any, right: Any) -> bool:
    """``<``, ``<=``, ``>``, ``>=``; values of different kinds compare as text."""
    a, b = order_key(left), order_key(right)
    if a[0] != b[0]:
        a, b = (2, to_str(left)), (2, to_str(right))
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _has(haystack: str, needle: str) -> bool:
    return needle.lower() in re.split(r"[^0-9a-z]+", haystack.lower()) or needle == ""


BINARY: dict[str, Callable[[Any, Any], bool]] = {
    "==": equals,
    "!=": lambda a, b: not equals(a, b),
    "=~": equals_ci,
    "!~": lambda a, b: not equals_ci(a, b),
    "contains": lambda a, b: to_str(b).lower() in to_str(a).lower(),
    "startswith": lambda a, b: to_str(a).lower().startswith(to_str(b).lower()),
    "endswith": lambda a, b: to_str(a).lower().endswith(to_str(b).lower()),
    "has": lambda a, b: _has(to_str(a), to_str(b)),
}


def _to_int(value: Any) -> int | None:
    try:
        return int(float(to_str(value))) if value is not None and value != "" else None
    except ValueError:
        return None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = to_str(value).lower()
    return True if text == "true" else False if text == "false" else None


def _split(value: Any, delimiter: Any, *index: Any) -> Any:
    parts = to_str(value).split(to_str(delimiter))
    if index:
        position = int(index[0])
        return [parts[position]] if -len(parts) <= position < len(parts) else []
    return parts


FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "tostring": (1, 1, to_str),
    "tolower": (1, 1, lambda v: to_str(v).lower()),
    "toupper": (1, 1, lambda v: to_str(v).upper()),
    "todatetime": (1, 1, lambda v: None if v in (None, "") else to_str(v)),
    "toint": (1, 1, _to_int),
    "tolong": (1, 1, _to_int),
    "tobool": (1, 1, _to_bool),
    "strlen": (1, 1, lambda v: len(to_str(v))),
    "split": (2, 3, _split),
    "strcat": (1, 64, lambda *vs: "".join(to_str(v) for v in vs)),
    "isempty": (1, 1, lambda v: v is None or v == ""),
    "isnotempty": (1, 1, lambda v: not (v is None or v == "")),
    "isnull": (1, 1, lambda v: v is None),
    "isnotnull": (1, 1, lambda v: v is not None),
    "iff": (3, 3, lambda c, a, b: a if c is True else b),
    "iif": (3, 3, lambda c, a, b: a if c is True else b),
    "coalesce": (1, 64, lambda *vs: next((v for v in vs if v not in (None, "")), None)),
    "not": (1, 1, lambda v: not bool(v)),
}
"""Each function's fewest and most arguments, and what it computes."""


def member(value: Any, key: Any) -> Any:
    """``bag.key`` / ``bag['key']`` / ``array[i]``: KQL dynamic property access is
    case-sensitive, so ``tags['ring']`` never finds a tag named ``Ring``."""
    if isinstance(value, dict):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list) and is_number(key):
        index = int(key)
        return value[index] if -len(value) <= index < len(value) else None
    return None
