"""KQL for Log Analytics: the Resource Graph engine plus ``summarize``, ``ago()`` and ``now()``.

The grammar is :mod:`emulator.resourcegraph.query`'s, over Log Analytics' tables (names are
case-sensitive, as in KQL), with::

    operator    := … | 'summarize' [agg (',' agg)*] ['by' group (',' group)*]
    agg         := [name '='] ('count' '(' ')' | ('sum' | 'avg' | 'min' | 'max' | 'dcount')
                   '(' expr ')' | 'percentile' '(' expr ',' number ')')
    group       := [name '='] expr
    term        := … | 'ago' '(' timespan ')' | 'now' '(' ')'
    timespan    := number ('d' | 'h' | 'm' | 's' | 'ms')

``summarize`` outputs the group columns, then the aggregates, named as KQL names them
(``count_``, ``avg_Val``, ``percentile_Val_95``) unless given a name. ``avg``, ``sum`` and
``percentile`` (nearest rank) read numbers and skip anything else; ``min``/``max`` skip nulls.
``ago()`` and ``now()`` give datetimes in the rows' own text form, so ``TimeGenerated >
ago(15m)`` compares as KQL does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.resourcegraph import evaluator
from emulator.resourcegraph.evaluator import Compiled, Expr, Row, Stage
from emulator.resourcegraph.exceptions import UNSUPPORTED_MSG, QueryError
from emulator.resourcegraph.parser import Parser
from emulator.resourcegraph.scalars import FUNCTIONS, is_number, order_key, to_str

OPERATORS = (
    "where",
    "extend",
    "project",
    "project-away",
    "order by",
    "top",
    "limit",
    "count",
    "summarize",
)
KNOWN_OPERATORS = {
    "where",
    "filter",
    "extend",
    "project",
    "project-away",
    "order",
    "sort",
    "top",
    "limit",
    "take",
    "count",
    "summarize",
}
AGGREGATES = ("count", "sum", "avg", "min", "max", "dcount", "percentile")
TIME_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
UNKNOWN_TABLE_MSG = "Failed to resolve table or column expression named '{table}'"
AGGREGATE_MSG = "'summarize' needs an aggregation ({aggregates}) or a 'by' clause"


def kql_time(moment: datetime) -> str:
    """A datetime as the emulator's rows hold it: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Aggregate:
    name: str
    fn: Callable[[list[Row]], Any]


class LogsParser(Parser):
    """Reads a Log Analytics query; ``now`` fixes what ``ago()`` and ``now()`` mean."""

    def __init__(self, text: str, now: datetime) -> None:
        super().__init__(text)
        self.now = now
        self.unnamed = 0
        """Group expressions without a name so far (``Column1``, ``Column2``...)."""

    def parse(self, table_columns: dict[str, list[str]]) -> tuple[str, list[Stage], list[str]]:
        token = self.take()
        if token.kind != "ident" or token.value not in table_columns:
            raise QueryError(
                "FailedToResolveTable",
                UNKNOWN_TABLE_MSG.format(table=token.value),
                token.pos,
                token.value,
            )
        self.columns = list(table_columns[token.value])
        stages: list[Stage] = []
        while self.at("|"):
            self.take()
            stages.append(self.operator())
        if self.tok.kind != "end":
            raise self.syntax("'|' or the end of the query")
        return token.value, stages, self.columns

    def operator(self) -> Stage:
        token = self.tok
        if token.kind == "ident" and token.value == "summarize":
            self.take()
            return self._summarize()
        if token.kind == "ident" and token.value not in KNOWN_OPERATORS:
            raise self.unsupported(token.value, OPERATORS)
        return super().operator()

    # summarize
    def _summarize(self) -> Stage:
        aggregates: list[Aggregate] = []
        if self.tok.kind == "end" or self.at("|"):
            raise self.syntax(AGGREGATE_MSG.format(aggregates=", ".join(AGGREGATES)))
        if not self.at("by"):
            aggregates = self.separated(self._aggregate)
        groups: list[tuple[str, Expr]] = []
        if self.at("by"):
            self.take()
            groups = self.separated(self._group)
        if not aggregates and not groups:
            raise self.syntax(AGGREGATE_MSG.format(aggregates=", ".join(AGGREGATES)))
        self.columns = [name for name, _ in groups] + [a.name for a in aggregates]
        return summarize(groups, aggregates)

    def _named(self) -> str | None:
        """``name =`` before an aggregation or group, if there is one."""
        if self.tok.kind == "ident" and self.peek().value == "=" and self.peek().kind == "op":
            name = self.take().value
            self.take()
            return name
        return None

    def _group(self) -> tuple[str, Expr]:
        name = self._named()
        compiled = self.expr()
        self.unnamed += 0 if name or compiled.name else 1
        return name or compiled.name or f"Column{self.unnamed}", compiled.expr

    def _aggregate(self) -> Aggregate:
        name = self._named()
        token = self.tok
        if token.kind != "ident" or token.value not in AGGREGATES:
            raise self.unsupported(token.value or "<end of query>", AGGREGATES)
        self.take()
        self.expect("(")
        function = token.value
        if function == "count":
            self.expect(")")
            return Aggregate(name or "count_", len)
        argument = self.expr()
        percent, suffix = None, ""
        if function == "percentile":
            self.expect(",")
            number = self.take()
            if number.kind != "number" or not 0 <= float(number.value) <= 100:
                self.i -= 1
                raise self.syntax("a percentile between 0 and 100")
            percent, suffix = float(number.value), f"_{number.value}"
        self.expect(")")
        default = f"{function}_{argument.name or ''}{suffix}"
        return Aggregate(name or default, _aggregation(function, argument.expr, percent))

    # functions
    def _call(self) -> Compiled:
        name = self.tok.value
        if name == "ago":
            self.take()
            self.expect("(")
            span = self._timespan()
            self.expect(")")
            return evaluator.fixed(kql_time(self.now - span))
        if name == "now":
            self.take()
            self.expect("(")
            self.expect(")")
            return evaluator.fixed(kql_time(self.now))
        if name not in FUNCTIONS:
            raise QueryError(
                "UnsupportedQueryElement",
                UNSUPPORTED_MSG.format(
                    element=f"{name}()", supported=", ".join([*sorted(FUNCTIONS), "ago", "now"])
                ),
                self.tok.pos,
                name,
            )
        return super()._call()

    def _timespan(self) -> timedelta:
        number = self.take()
        unit = self.take()
        if number.kind != "number" or unit.kind != "ident" or unit.value not in TIME_UNITS:
            self.i -= 2
            raise self.syntax("a timespan such as 15m, 1h or 30s")
        return timedelta(seconds=float(number.value) * TIME_UNITS[unit.value])


def _numbers(values: list[Any]) -> list[float]:
    return [float(v) for v in values if is_number(v) and math.isfinite(float(v))]


def _aggregation(
    function: str, argument: Expr, percent: float | None
) -> Callable[[list[Row]], Any]:
    def over(rows: list[Row]) -> Any:
        values = [argument(row) for row in rows]
        if function == "dcount":
            return len({to_str(v) for v in values if v is not None})
        if function in ("min", "max"):
            present = [v for v in values if v is not None]
            if not present:
                return None
            pick = min if function == "min" else max
            return pick(present, key=order_key)
        numbers = _numbers(values)
        if function == "sum":
            return sum(numbers)
        if not numbers:
            return None
        if function == "avg":
            return sum(numbers) / len(numbers)
        ordered = sorted(numbers)
        rank = math.ceil((percent or 0.0) / 100 * len(ordered))
        return ordered[min(max(rank, 1), len(ordered)) - 1]

    return over


def summarize(groups: list[tuple[str, Expr]], aggregates: list[Aggregate]) -> Stage:
    """Group the rows by the group expressions (in first-seen order), one row per group."""

    def run(rows: list[Row]) -> list[Row]:
        if not groups:
            return [{a.name: a.fn(rows) for a in aggregates}]
        buckets: dict[tuple[str, ...], tuple[list[Any], list[Row]]] = {}
        for row in rows:
            values = [fn(row) for _, fn in groups]
            key = tuple(to_str(v) for v in values)
            buckets.setdefault(key, (values, []))[1].append(row)
        result = []
        for values, members in buckets.values():
            out: Row = {name: value for (name, _), value in zip(groups, values, strict=True)}
            out.update({a.name: a.fn(members) for a in aggregates})
            result.append(out)
        return result

    return run


def compile_logs_query(
    text: str, tables: dict[str, list[str]], now: datetime
) -> tuple[str, list[Stage], list[str]]:
    """The table a query reads, its stages, and the columns it answers."""
    return LogsParser(text, now).parse(tables)
