"""A small KQL engine for the Resource Graph subset arcwave sends.

Grammar (case-sensitive keywords, like KQL)::

    query     := table ( '|' operator )*
    table     := 'resources' | 'kubernetesconfigurationresources'      (any case)
    operator  := ('where' | 'filter') expr
               | 'extend' name '=' expr (',' name '=' expr)*
               | 'project' item (',' item)*        item := name '=' expr | expr
               | 'project-away' name (',' name)*
               | ('order' | 'sort') 'by' key (',' key)*
               | 'top' N 'by' key
               | ('limit' | 'take') N
               | 'count'
    key       := expr ('asc' | 'desc')?                                  (default desc)
    expr      := and ('or' and)*
    and       := cmp ('and' cmp)*
    cmp       := term (op term | ['!']'in'['~'] '(' expr (',' expr)* ')')?
    op        := '==' | '!=' | '=~' | '!~' | '<' | '<=' | '>' | '>=' | ['!'](contains
                 | startswith | endswith | has)
    term      := literal | '(' expr ')' | function '(' args ')'
               | name ( '.' name | '[' literal ']' )*

Functions: tostring, tolower, toupper, todatetime, toint, tolong, tobool, strlen, split, strcat,
isempty, isnotempty, isnull, isnotnull, iff/iif, coalesce, not. Anything else raises a
``QueryError`` naming the unsupported element, which the handler turns into ARG's 400.

Property access into dynamic values (``tags['ring']``, ``properties.connectivityStatus``) is
case-sensitive, as in KQL: ``tags['ring']`` does not match a tag named ``Ring``. Tag *values*
compare as the operator says (``==`` case-sensitive, ``=~`` / ``in~`` not).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.resourcegraph.exceptions import (
    SYNTAX_MSG,
    UNKNOWN_TABLE_MSG,
    UNRESOLVED_MSG,
    UNSUPPORTED_MSG,
    QueryError,
)

Row = dict[str, Any]
Expr = Callable[[Row], Any]
Stage = Callable[[list[Row]], list[Row]]

TABLES = ("resources", "kubernetesconfigurationresources")
OPERATORS = ("where", "extend", "project", "project-away", "order by", "top", "limit", "count")
COMPARISONS = ("==", "!=", "=~", "!~", "<", "<=", ">", ">=")
WORD_COMPARISONS = ("contains", "startswith", "endswith", "has")
TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<string>@?'(?:[^'\\]|\\.)*'|@?"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z]+)*)
  | (?P<op>==|!=|=~|!~|<=|>=|[|(),.\[\]~!<>=+\-*/%;:])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        found = TOKEN_RE.match(text, pos)
        if found is None:
            raise QueryError("ParserFailure", f"unexpected character '{text[pos]}'", pos, text[pos])
        kind = found.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, found.group(), pos))
        pos = found.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def unquote(literal: str) -> str:
    if literal.startswith("@"):
        return literal[2:-1]
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# ------------------------------------------------------------------------------ value semantics
def to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equals(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    return to_str(left) == to_str(right)


def equals_ci(left: Any, right: Any) -> bool:
    return to_str(left).lower() == to_str(right).lower()


def order_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if _is_number(value):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, to_str(value))


def _compare(op: str, left: Any, right: Any) -> bool:
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


def _member(value: Any, key: Any) -> Any:
    """``bag.key`` / ``bag['key']`` / ``array[i]``: KQL dynamic property access is
    case-sensitive, so ``tags['ring']`` never finds a tag named ``Ring``."""
    if isinstance(value, dict):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list) and _is_number(key):
        index = int(key)
        return value[index] if -len(value) <= index < len(value) else None
    return None


def _literal_comparison(op: str, left: Compiled, right: Compiled) -> Compiled | None:
    """``x == 'lit'``, ``x != 'lit'``, ``x =~ 'lit'``, ``x !~ 'lit'`` with the literal prepared
    once; these dominate fleet queries, so they skip the generic path."""
    if not right.constant or op not in {"==", "!=", "=~", "!~"}:
        return None
    literal = right.expr({})
    if _is_number(literal):
        return None
    a = left.expr
    text = to_str(literal)
    if op in {"=~", "!~"}:
        lowered = text.lower()
        if op == "=~":
            return Compiled(
                lambda row: (v if isinstance(v := a(row), str) else to_str(v)).lower() == lowered,
                None,
            )
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
    if any(_is_number(v) for v in literals):
        numbers = {v for v in literals if _is_number(v)}
        texts = {to_str(v).lower() if insensitive else to_str(v) for v in literals}

        def mixed(row: Row) -> bool:
            value = a(row)
            text = to_str(value)
            found = (_is_number(value) and value in numbers) or (
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


def _either(a: Expr, b: Expr) -> Expr:
    return lambda row: a(row) is True or b(row) is True


def _both(a: Expr, b: Expr) -> Expr:
    return lambda row: a(row) is True and b(row) is True


def _member_of(inner: Expr, key: Any) -> Expr:
    return lambda row: _member(inner(row), key)


def _sort_key(fn: Expr) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: order_key(fn(row))


# ----------------------------------------------------------------------------------- parser
@dataclass
class Compiled:
    expr: Expr
    name: str | None
    """The column name KQL derives for ``project``: ``properties.a`` -> ``properties_a``."""
    constant: bool = False
    """A literal: its value is known at compile time, so comparisons can prepare it once."""


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.columns: list[str] = []

    # token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def at(self, value: str) -> bool:
        return self.tok.value == value and self.tok.kind in {"op", "ident"}

    def expect(self, value: str) -> Token:
        if not self.at(value):
            raise self.syntax(f"'{value}'")
        return self.take()

    def syntax(self, expected: str) -> QueryError:
        token = self.tok
        shown = token.value or "<end of query>"
        return QueryError(
            "ParserFailure",
            SYNTAX_MSG.format(token=shown, position=token.pos, expected=expected),
            token.pos,
            token.value,
        )

    def unsupported(self, element: str, supported: tuple[str, ...] | list[str]) -> QueryError:
        return QueryError(
            "UnsupportedQueryElement",
            UNSUPPORTED_MSG.format(element=element, supported=", ".join(supported)),
            self.tok.pos,
            element,
        )

    # query
    def parse(self, table_columns: dict[str, list[str]]) -> tuple[str, list[Stage], list[str]]:
        token = self.take()
        table = token.value.lower()
        if token.kind != "ident" or table not in table_columns:
            raise QueryError(
                "UnsupportedQueryElement",
                UNKNOWN_TABLE_MSG.format(table=token.value, tables=", ".join(TABLES)),
                token.pos,
                token.value,
            )
        self.columns = list(table_columns[table])
        stages: list[Stage] = []
        while self.at("|"):
            self.take()
            stages.append(self.operator())
        if self.tok.kind != "end":
            raise self.syntax("'|' or the end of the query")
        return table, stages, self.columns

    def operator(self) -> Stage:
        token = self.tok
        name = token.value
        if token.kind != "ident":
            raise self.syntax("a query operator")
        self.take()
        if name in {"where", "filter"}:
            return self._where()
        if name == "extend":
            return self._extend()
        if name == "project":
            return self._project()
        if name == "project-away":
            return self._project_away()
        if name in {"order", "sort"}:
            self.expect("by")
            return self._sort(self._keys())
        if name == "top":
            count = self._count()
            self.expect("by")
            keys = [self._key()]
            sort = self._sort(keys)
            return lambda rows: sort(rows)[:count]
        if name in {"limit", "take"}:
            count = self._count()
            return lambda rows: rows[:count]
        if name == "count":
            self.columns = ["Count"]
            return lambda rows: [{"Count": len(rows)}]
        self.i -= 1
        raise self.unsupported(name, OPERATORS)

    def _count(self) -> int:
        token = self.take()
        if token.kind != "number":
            self.i -= 1
            raise self.syntax("a number")
        return int(float(token.value))

    def _where(self) -> Stage:
        predicate = self.expr().expr
        return lambda rows: [row for row in rows if predicate(row) is True]

    def _extend(self) -> Stage:
        assignments: list[tuple[str, Expr]] = []
        while True:
            name = self._name()
            self.expect("=")
            assignments.append((name, self.expr().expr))
            if name not in self.columns:
                self.columns.append(name)
            if not self.at(","):
                break
            self.take()

        def extend(rows: list[Row]) -> list[Row]:
            result = []
            for row in rows:
                new = dict(row)
                for name, fn in assignments:
                    new[name] = fn(new)
                result.append(new)
            return result

        return extend

    def _project(self) -> Stage:
        items: list[tuple[str, Expr]] = []
        while True:
            if self.tok.kind == "ident" and self.peek().value == "=" and self.peek().kind == "op":
                name = self._name()
                self.take()
                compiled = self.expr()
            else:
                compiled = self.expr()
                name = compiled.name or f"Column{len(items) + 1}"
            items.append((name, compiled.expr))
            if not self.at(","):
                break
            self.take()
        self.columns = [name for name, _ in items]
        return lambda rows: [{name: fn(row) for name, fn in items} for row in rows]

    def _project_away(self) -> Stage:
        names = [self._column()]
        while self.at(","):
            self.take()
            names.append(self._column())
        self.columns = [c for c in self.columns if c not in names]
        keep = list(self.columns)
        return lambda rows: [{c: row.get(c) for c in keep} for row in rows]

    def _keys(self) -> list[tuple[Expr, bool]]:
        keys = [self._key()]
        while self.at(","):
            self.take()
            keys.append(self._key())
        return keys

    def _key(self) -> tuple[Expr, bool]:
        fn = self.expr().expr
        descending = True
        if self.at("asc") or self.at("desc"):
            descending = self.take().value == "desc"
        if self.at("nulls"):
            raise self.unsupported("nulls first/last", ["asc", "desc"])
        return fn, descending

    @staticmethod
    def _sort(keys: list[tuple[Expr, bool]]) -> Stage:
        def sort(rows: list[Row]) -> list[Row]:
            result = list(rows)
            for fn, descending in reversed(keys):
                result.sort(key=_sort_key(fn), reverse=descending)
            return result

        return sort

    def _name(self) -> str:
        token = self.take()
        if token.kind != "ident":
            self.i -= 1
            raise self.syntax("a column name")
        return token.value

    def _column(self) -> str:
        name = self._name()
        if name not in self.columns:
            self.i -= 1
            raise QueryError(
                "FailedToResolveScalarExpression",
                UNRESOLVED_MSG.format(name=name),
                self.tok.pos,
                name,
            )
        return name

    # expressions
    def expr(self) -> Compiled:
        left = self._and()
        while self.at("or"):
            self.take()
            right = self._and()
            left = Compiled(_either(left.expr, right.expr), None)
        return left

    def _and(self) -> Compiled:
        left = self._comparison()
        while self.at("and"):
            self.take()
            right = self._comparison()
            left = Compiled(_both(left.expr, right.expr), None)
        return left

    def _comparison(self) -> Compiled:
        left = self._term()
        negate = False
        if self.at("!") and self.peek().kind == "ident":
            negate = True
            self.take()
        token = self.tok
        if token.kind == "op" and token.value in COMPARISONS and not negate:
            self.take()
            right = self._term()
            fast = _literal_comparison(token.value, left, right)
            if fast is not None:
                return fast
            a, b = left.expr, right.expr
            binary = BINARY.get(token.value)
            if binary is None:
                op = token.value
                return Compiled(lambda row: _compare(op, a(row), b(row)), None)
            return Compiled(lambda row: binary(a(row), b(row)), None)
        if token.kind == "ident" and token.value in WORD_COMPARISONS:
            self.take()
            right = self._term()
            fn, a, b = BINARY[token.value], left.expr, right.expr
            if negate:
                return Compiled(lambda row: not fn(a(row), b(row)), None)
            return Compiled(lambda row: fn(a(row), b(row)), None)
        if token.kind == "ident" and token.value == "in":
            self.take()
            insensitive = False
            if self.at("~"):
                self.take()
                insensitive = True
            return self._in(left, insensitive, negate)
        if negate:
            raise self.unsupported(f"!{token.value}", ["!=", "!~", "!in", "!contains"])
        if token.kind == "ident" and token.value in {
            "between",
            "matches",
            "has_any",
            "has_all",
            "contains_cs",
            "hasprefix",
            "hassuffix",
        }:
            raise self.unsupported(token.value, [*COMPARISONS, *WORD_COMPARISONS, "in", "in~"])
        if token.kind == "op" and token.value in {"+", "-", "*", "/", "%"}:
            raise self.unsupported(f"arithmetic operator '{token.value}'", ["comparisons"])
        return left

    def _in(self, left: Compiled, insensitive: bool, negate: bool) -> Compiled:
        self.expect("(")
        compiled = [self.expr()]
        while self.at(","):
            self.take()
            compiled.append(self.expr())
        self.expect(")")
        values = [c.expr for c in compiled]
        test = equals_ci if insensitive else equals
        a = left.expr
        if all(c.constant for c in compiled):
            return _literal_membership(a, [c.expr({}) for c in compiled], insensitive, negate)

        def member(row: Row) -> bool:
            value = a(row)
            found = any(test(value, v(row)) for v in values)
            return not found if negate else found

        return Compiled(member, None)

    def _term(self) -> Compiled:
        token = self.tok
        if token.kind == "string":
            self.take()
            value: Any = unquote(token.value)
            return Compiled(lambda row: value, None, constant=True)
        if token.kind == "number":
            self.take()
            number = float(token.value) if "." in token.value else int(token.value)
            return Compiled(lambda row: number, None, constant=True)
        if token.kind == "op" and token.value == "(":
            self.take()
            inner = self.expr()
            self.expect(")")
            return self._postfix(inner)
        if token.kind == "op" and token.value == "-" and self.peek().kind == "number":
            self.take()
            number = -float(self.take().value)
            return Compiled(lambda row: number, None)
        if token.kind != "ident":
            raise self.syntax("an expression")
        if token.value in {"true", "false"}:
            self.take()
            flag = token.value == "true"
            return Compiled(lambda row: flag, None)
        if self.peek().value == "(" and self.peek().kind == "op":
            return self._postfix(self._call())
        self.take()
        if token.value not in self.columns:
            self.i -= 1
            raise QueryError(
                "FailedToResolveScalarExpression",
                UNRESOLVED_MSG.format(name=token.value),
                token.pos,
                token.value,
            )
        name = token.value
        return self._postfix(Compiled(lambda row: row.get(name), name))

    def _call(self) -> Compiled:
        token = self.take()
        name = token.value
        if name in {"dynamic", "datetime", "now", "ago"}:
            self.i -= 1
            raise self.unsupported(f"{name}()", sorted(FUNCTIONS))
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.i -= 1
            raise self.unsupported(f"{name}()", sorted(FUNCTIONS))
        low, high, fn = spec
        self.expect("(")
        args: list[Expr] = []
        if not self.at(")"):
            args.append(self.expr().expr)
            while self.at(","):
                self.take()
                args.append(self.expr().expr)
        self.expect(")")
        if not low <= len(args) <= high:
            raise QueryError(
                "ParserFailure",
                f"function '{name}' expects {low}..{high} arguments, got {len(args)}",
                token.pos,
                name,
            )
        return Compiled(lambda row: fn(*(arg(row) for arg in args)), None)

    def _postfix(self, base: Compiled) -> Compiled:
        current = base
        while True:
            if self.at(".") and self.peek().kind == "ident":
                self.take()
                key = self.take().value
                name = f"{current.name}_{key}" if current.name else None
                current = Compiled(_member_of(current.expr, key), name)
            elif self.at("["):
                self.take()
                index = self._term()
                self.expect("]")
                key_value = index.expr({})
                name = f"{current.name}_{to_str(key_value)}" if current.name else None
                current = Compiled(_member_of(current.expr, key_value), name)
            else:
                return current


@dataclass(frozen=True)
class Query:
    table: str
    stages: list[Stage]
    columns: list[str]

    def run(self, rows: list[Row]) -> list[Row]:
        for stage in self.stages:
            rows = stage(rows)
        return rows


def compile_query(text: str, table_columns: dict[str, list[str]]) -> Query:
    table, stages, columns = Parser(text).parse(table_columns)
    return Query(table, stages, columns)
