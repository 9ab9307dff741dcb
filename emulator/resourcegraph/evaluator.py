"""Compiled KQL: each expression a function of a row, each operator a function of the rows.

The parser builds these while it reads the query, so running a query is plain function
calls. Comparisons with a literal on the right prepare the literal once: they dominate fleet
queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.resourcegraph.scalars import (
    BINARY,
    compare,
    equals,
    equals_ci,
    is_number,
    member,
    order_key,
    to_str,
)

Row = dict[str, Any]
Expr = Callable[[Row], Any]
Stage = Callable[[list[Row]], list[Row]]
SortKey = tuple[Expr, bool]
"""An expression and whether it sorts descending."""


@dataclass
class Compiled:
    expr: Expr
    name: str | None
    """The column name KQL derives for ``project``: ``properties.a`` -> ``properties_a``."""
    constant: bool = False
    """A literal: its value is known at compile time, so comparisons can prepare it once."""


# ---------------------------------------------------------------------------------- values
def literal(value: Any) -> Compiled:
    """A string or number literal."""
    return Compiled(lambda row: value, None, constant=True)


def fixed(value: Any) -> Compiled:
    """``true``, ``false`` or a negative number: known up front, not prepared by comparisons."""
    return Compiled(lambda row: value, None)


def column(name: str) -> Compiled:
    return Compiled(lambda row: row.get(name), name)


def member_of(base: Compiled, key: Any, name: str | None) -> Compiled:
    """``base.key`` or ``base[key]``."""
    inner = base.expr
    return Compiled(lambda row: member(inner(row), key), name)


def call(fn: Callable[..., Any], args: list[Expr]) -> Compiled:
    return Compiled(lambda row: fn(*(arg(row) for arg in args)), None)


# ----------------------------------------------------------------------------- predicates
def either(left: Compiled, right: Compiled) -> Compiled:
    a, b = left.expr, right.expr
    return Compiled(lambda row: a(row) is True or b(row) is True, None)


def both(left: Compiled, right: Compiled) -> Compiled:
    a, b = left.expr, right.expr
    return Compiled(lambda row: a(row) is True and b(row) is True, None)


def comparison(op: str, left: Compiled, right: Compiled) -> Compiled:
    """``==``, ``!=``, ``=~``, ``!~``, ``<``, ``<=``, ``>``, ``>=``."""
    fast = _literal_comparison(op, left, right)
    if fast is not None:
        return fast
    a, b = left.expr, right.expr
    binary = BINARY.get(op)
    if binary is None:
        return Compiled(lambda row: compare(op, a(row), b(row)), None)
    return Compiled(lambda row: binary(a(row), b(row)), None)


def word_comparison(op: str, left: Compiled, right: Compiled, negate: bool) -> Compiled:
    """``contains``, ``startswith``, ``endswith``, ``has``, each with an optional ``!``."""
    fn, a, b = BINARY[op], left.expr, right.expr
    if negate:
        return Compiled(lambda row: not fn(a(row), b(row)), None)
    return Compiled(lambda row: fn(a(row), b(row)), None)


def membership(left: Compiled, items: list[Compiled], insensitive: bool, negate: bool) -> Compiled:
    """``in``, ``in~``, ``!in``, ``!in~``."""
    a = left.expr
    if all(item.constant for item in items):
        return _literal_membership(a, [item.expr({}) for item in items], insensitive, negate)
    values = [item.expr for item in items]
    test = equals_ci if insensitive else equals

    def found_in(row: Row) -> bool:
        value = a(row)
        found = any(test(value, v(row)) for v in values)
        return not found if negate else found

    return Compiled(found_in, None)


def _literal_comparison(op: str, left: Compiled, right: Compiled) -> Compiled | None:
    """``x == 'lit'``, ``x != 'lit'``, ``x =~ 'lit'``, ``x !~ 'lit'`` with the literal prepared
    once; None for any other comparison."""
    if not right.constant or op not in {"==", "!=", "=~", "!~"}:
        return None
    value = right.expr({})
    if is_number(value):
        return None
    a = left.expr
    text = to_str(value)
    # The text form is spelled out inline: these run once per row of fleet-sized tables.
    if op == "=~":
        lowered = text.lower()
        return Compiled(
            lambda row: (v if isinstance(v := a(row), str) else to_str(v)).lower() == lowered,
            None,
        )
    if op == "!~":
        lowered = text.lower()
        return Compiled(
            lambda row: (v if isinstance(v := a(row), str) else to_str(v)).lower() != lowered,
            None,
        )
    if op == "==":
        return Compiled(
            lambda row: (v if isinstance(v := a(row), str) else to_str(v)) == text, None
        )
    return Compiled(lambda row: (v if isinstance(v := a(row), str) else to_str(v)) != text, None)


def _literal_membership(a: Expr, literals: list[Any], insensitive: bool, negate: bool) -> Compiled:
    if any(is_number(v) for v in literals):
        numbers = {v for v in literals if is_number(v)}
        texts = {to_str(v).lower() if insensitive else to_str(v) for v in literals}

        def mixed(row: Row) -> bool:
            value = a(row)
            text = to_str(value)
            found = (is_number(value) and value in numbers) or (
                (text.lower() if insensitive else text) in texts
            )
            return found is not negate

        return Compiled(mixed, None)
    options = frozenset(to_str(v).lower() if insensitive else to_str(v) for v in literals)
    if insensitive:
        return Compiled(
            lambda row: (
                ((v if isinstance(v := a(row), str) else to_str(v)).lower() in options)
                is not negate
            ),
            None,
        )
    return Compiled(
        lambda row: ((v if isinstance(v := a(row), str) else to_str(v)) in options) is not negate,
        None,
    )


# ------------------------------------------------------------------------------ operators
def where(predicate: Compiled) -> Stage:
    test = predicate.expr
    return lambda rows: [row for row in rows if test(row) is True]


def extend(assignments: list[tuple[str, Expr]]) -> Stage:
    """New columns, each computed from the row as extended so far."""

    def extended(rows: list[Row]) -> list[Row]:
        result = []
        for row in rows:
            new = dict(row)
            for name, fn in assignments:
                new[name] = fn(new)
            result.append(new)
        return result

    return extended


def project(items: list[tuple[str, Expr]]) -> Stage:
    return lambda rows: [{name: fn(row) for name, fn in items} for row in rows]


def keep(columns: list[str]) -> Stage:
    """What ``project-away`` leaves: the other columns, in order."""
    kept = list(columns)
    return lambda rows: [{c: row.get(c) for c in kept} for row in rows]


def sort(keys: list[SortKey]) -> Stage:
    def by_keys(rows: list[Row]) -> list[Row]:
        result = list(rows)
        for fn, descending in reversed(keys):
            result.sort(key=_sort_key(fn), reverse=descending)
        return result

    return by_keys


def top(count: int, key: SortKey) -> Stage:
    ordered = sort([key])
    return lambda rows: ordered(rows)[:count]


def limit(count: int) -> Stage:
    return lambda rows: rows[:count]


def count_rows(rows: list[Row]) -> list[Row]:
    return [{"Count": len(rows)}]


def _sort_key(fn: Expr) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: order_key(fn(row))
