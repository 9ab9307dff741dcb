"""The KQL parser: reads the grammar in :mod:`emulator.resourcegraph.query` and builds the
compiled query from :mod:`emulator.resourcegraph.evaluator` as it goes.

It also tracks the columns each operator leaves, so a name that is not a column is
``FailedToResolveScalarExpression`` at compile time, as in ARG.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from emulator.resourcegraph import evaluator
from emulator.resourcegraph.evaluator import Compiled, Expr, SortKey, Stage
from emulator.resourcegraph.exceptions import (
    SYNTAX_MSG,
    UNKNOWN_TABLE_MSG,
    UNRESOLVED_MSG,
    UNSUPPORTED_MSG,
    QueryError,
)
from emulator.resourcegraph.lexer import Token, tokenize, unquote
from emulator.resourcegraph.scalars import FUNCTIONS, to_str

TABLES = ("resources", "kubernetesconfigurationresources")
OPERATORS = ("where", "extend", "project", "project-away", "order by", "top", "limit", "count")
COMPARISONS = ("==", "!=", "=~", "!~", "<", "<=", ">", ">=")
WORD_COMPARISONS = ("contains", "startswith", "endswith", "has")
UNSUPPORTED_COMPARISONS = {
    "between",
    "matches",
    "has_any",
    "has_all",
    "contains_cs",
    "hasprefix",
    "hassuffix",
}
UNSUPPORTED_FUNCTIONS = {"dynamic", "datetime", "now", "ago"}
ARITHMETIC = {"+", "-", "*", "/", "%"}
T = TypeVar("T")


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

    def unresolved(self, token: Token) -> QueryError:
        return QueryError(
            "FailedToResolveScalarExpression",
            UNRESOLVED_MSG.format(name=token.value),
            token.pos,
            token.value,
        )

    def separated(self, item: Callable[[], T]) -> list[T]:
        """``item (',' item)*``."""
        items = [item()]
        while self.at(","):
            self.take()
            items.append(item())
        return items

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
            return evaluator.where(self.expr())
        if name == "extend":
            return self._extend()
        if name == "project":
            return self._project()
        if name == "project-away":
            return self._project_away()
        if name in {"order", "sort"}:
            self.expect("by")
            return evaluator.sort(self.separated(self._key))
        if name == "top":
            count = self._count()
            self.expect("by")
            return evaluator.top(count, self._key())
        if name in {"limit", "take"}:
            return evaluator.limit(self._count())
        if name == "count":
            self.columns = ["Count"]
            return evaluator.count_rows
        self.i -= 1
        raise self.unsupported(name, OPERATORS)

    def _count(self) -> int:
        token = self.take()
        if token.kind != "number":
            self.i -= 1
            raise self.syntax("a number")
        return int(float(token.value))

    def _extend(self) -> Stage:
        def assignment() -> tuple[str, Expr]:
            name = self._name()
            self.expect("=")
            value = self.expr().expr
            if name not in self.columns:
                self.columns.append(name)
            return name, value

        return evaluator.extend(self.separated(assignment))

    def _project(self) -> Stage:
        items: list[tuple[str, Expr]] = []

        def item() -> tuple[str, Expr]:
            if self.tok.kind == "ident" and self.peek().value == "=" and self.peek().kind == "op":
                name = self._name()
                self.take()
                return name, self.expr().expr
            compiled = self.expr()
            return compiled.name or f"Column{len(items) + 1}", compiled.expr

        while True:
            items.append(item())
            if not self.at(","):
                break
            self.take()
        self.columns = [name for name, _ in items]
        return evaluator.project(items)

    def _project_away(self) -> Stage:
        names = self.separated(self._column)
        self.columns = [c for c in self.columns if c not in names]
        return evaluator.keep(self.columns)

    def _key(self) -> SortKey:
        fn = self.expr().expr
        descending = True
        if self.at("asc") or self.at("desc"):
            descending = self.take().value == "desc"
        if self.at("nulls"):
            raise self.unsupported("nulls first/last", ["asc", "desc"])
        return fn, descending

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
            raise self.unresolved(self.tok)
        return name

    # expressions
    def expr(self) -> Compiled:
        return self._joined("or", self._and, evaluator.either)

    def _and(self) -> Compiled:
        return self._joined("and", self._comparison, evaluator.both)

    def _joined(
        self,
        word: str,
        operand: Callable[[], Compiled],
        combine: Callable[[Compiled, Compiled], Compiled],
    ) -> Compiled:
        """``operand (word operand)*``, folded left with ``combine``."""
        left = operand()
        while self.at(word):
            self.take()
            left = combine(left, operand())
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
            return evaluator.comparison(token.value, left, self._term())
        if token.kind == "ident" and token.value in WORD_COMPARISONS:
            self.take()
            return evaluator.word_comparison(token.value, left, self._term(), negate)
        if token.kind == "ident" and token.value == "in":
            self.take()
            insensitive = False
            if self.at("~"):
                self.take()
                insensitive = True
            return self._in(left, insensitive, negate)
        if negate:
            raise self.unsupported(f"!{token.value}", ["!=", "!~", "!in", "!contains"])
        if token.kind == "ident" and token.value in UNSUPPORTED_COMPARISONS:
            raise self.unsupported(token.value, [*COMPARISONS, *WORD_COMPARISONS, "in", "in~"])
        if token.kind == "op" and token.value in ARITHMETIC:
            raise self.unsupported(f"arithmetic operator '{token.value}'", ["comparisons"])
        return left

    def _in(self, left: Compiled, insensitive: bool, negate: bool) -> Compiled:
        self.expect("(")
        items = self.separated(self.expr)
        self.expect(")")
        return evaluator.membership(left, items, insensitive, negate)

    def _term(self) -> Compiled:
        token = self.tok
        if token.kind == "string":
            self.take()
            return evaluator.literal(unquote(token.value))
        if token.kind == "number":
            self.take()
            return evaluator.literal(float(token.value) if "." in token.value else int(token.value))
        if token.kind == "op" and token.value == "(":
            self.take()
            inner = self.expr()
            self.expect(")")
            return self._postfix(inner)
        if token.kind == "op" and token.value == "-" and self.peek().kind == "number":
            self.take()
            return evaluator.fixed(-float(self.take().value))
        if token.kind != "ident":
            raise self.syntax("an expression")
        if token.value in {"true", "false"}:
            self.take()
            return evaluator.fixed(token.value == "true")
        if self.peek().value == "(" and self.peek().kind == "op":
            return self._postfix(self._call())
        self.take()
        if token.value not in self.columns:
            self.i -= 1
            raise self.unresolved(token)
        return self._postfix(evaluator.column(token.value))

    def _call(self) -> Compiled:
        token = self.take()
        name = token.value
        spec = None if name in UNSUPPORTED_FUNCTIONS else FUNCTIONS.get(name)
        if spec is None:
            self.i -= 1
            raise self.unsupported(f"{name}()", sorted(FUNCTIONS))
        low, high, fn = spec
        self.expect("(")
        args: list[Expr] = []
        if not self.at(")"):
            args = [compiled.expr for compiled in self.separated(self.expr)]
        self.expect(")")
        if not low <= len(args) <= high:
            raise QueryError(
                "ParserFailure",
                f"function '{name}' expects {low}..{high} arguments, got {len(args)}",
                token.pos,
                name,
            )
        return evaluator.call(fn, args)

    def _postfix(self, base: Compiled) -> Compiled:
        current = base
        while True:
            if self.at(".") and self.peek().kind == "ident":
                self.take()
                key = self.take().value
                name = f"{current.name}_{key}" if current.name else None
                current = evaluator.member_of(current, key, name)
            elif self.at("["):
                self.take()
                index = self._term()
                self.expect("]")
                key_value = index.expr({})
                name = f"{current.name}_{to_str(key_value)}" if current.name else None
                current = evaluator.member_of(current, key_value, name)
            else:
                return current
