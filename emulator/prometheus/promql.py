"""A small PromQL subset over the fleet's synthetic series, for instant queries.

Grammar::

    expr        := aggregation | range_call | selector | number
    aggregation := aggregator [grouping] '(' expr ')' [grouping]
    aggregator  := 'sum' | 'avg' | 'min' | 'max' | 'count'
    grouping    := ('by' | 'without') '(' [label (',' label)*] ')'
    range_call  := range_fn '(' selector '[' duration ']' ')'
    range_fn    := 'rate' | 'irate' | 'increase' | 'avg_over_time' | 'min_over_time'
                 | 'max_over_time' | 'last_over_time'
    selector    := metric ['{' [matcher (',' matcher)*] '}'] | '{' matcher (',' matcher)* '}'
    matcher     := label ('=' | '!=' | '=~' | '!~') string
    duration    := number ('ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'y')

Every series is one declared metric on one connected cluster, labelled ``__name__``,
``cluster`` (the connected cluster's name) and ``cluster_id`` (its ARM id). The emulated series
hold one value each, now: a range function answers that value (the series *is* the rate), and
drops ``__name__`` as Prometheus does. Regular expressions are fully anchored, as in
Prometheus. Anything else (binary operators, offsets, subqueries, other functions) is a
``bad_data`` error naming what is not supported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.metrics import Sample

Labels = dict[str, str]
AGGREGATORS = ("sum", "avg", "min", "max", "count")
RANGE_FUNCTIONS = (
    "rate",
    "irate",
    "increase",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "last_over_time",
)
MATCH_OPS = ("=~", "!~", "!=", "=")
BINARY_OPERATORS = {"+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">="}
DURATION = re.compile(r"^(\d+(?:ms|[smhdwy]))+$")
TOKEN = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![A-Za-z0-9_]))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[(){}\[\],=+\-*/%^<>@])
    """,
    re.VERBOSE,
)
SUPPORTED = (
    "a metric selector with label matchers, optionally inside rate/irate/increase/"
    "*_over_time(selector[d]), and sum/avg/min/max/count with by (...) or without (...)"
)


class PromQLError(Exception):
    """A query outside the subset, or malformed: Prometheus' ``bad_data`` with a position."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"1:{position + 1}: parse error: {message}")
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        found = TOKEN.match(text, pos)
        if found is None:
            raise PromQLError(pos, f"unexpected character: '{text[pos]}'")
        if found.lastgroup != "ws":
            tokens.append(Token(found.lastgroup or "", found.group(), pos))
        pos = found.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str
    pattern: re.Pattern[str] | None = None

    def test(self, labels: Labels) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found


@dataclass
class Result:
    """What a query computes: an instant vector (``series``) or a ``scalar``."""

    series: list[tuple[Labels, float]] = field(default_factory=list)
    scalar: float | None = None


Node = Callable[[list[Sample]], Result]


def series_labels(sample: Sample) -> Labels:
    return {"__name__": sample.metric, "cluster": sample.cluster, "cluster_id": sample.cluster_id}


class PromParser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect(self, value: str) -> Token:
        if self.tok.value != value or self.tok.kind not in ("op", "ident"):
            shown = self.tok.value or "end of input"
            raise PromQLError(self.tok.pos, f"unexpected {shown}, expected '{value}'")
        return self.take()

    def unsupported(self, what: str) -> PromQLError:
        return PromQLError(
            self.tok.pos, f"{what} is not supported by the arcwave emulator ({SUPPORTED})"
        )

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise PromQLError(0, "no expression found in input")
        node = self.expr()
        if self.tok.kind != "end":
            token = self.tok
            if token.kind == "op" and token.value in BINARY_OPERATORS:
                raise self.unsupported(f"binary operator '{token.value}'")
            if token.kind == "ident" and token.value in ("offset", "and", "or", "unless"):
                raise self.unsupported(f"'{token.value}'")
            raise PromQLError(token.pos, f"unexpected {token.value!r} after the expression")
        return node

    def expr(self) -> Node:
        token = self.tok
        if token.kind == "number":
            self.take()
            value = float(token.value)
            return lambda samples: Result(scalar=value)
        if token.kind == "ident" and token.value in AGGREGATORS and self._is_call_or_grouping():
            return self._aggregation()
        if token.kind == "ident" and self.tokens[self.i + 1].value == "(":
            if token.value in RANGE_FUNCTIONS:
                return self._range_call()
            raise self.unsupported(f"function '{token.value}'")
        if token.kind == "ident" or token.value == "{":
            return self._selector()
        if token.value == "(":
            raise self.unsupported("a parenthesised expression")
        raise PromQLError(token.pos, f"unexpected {token.value or 'end of input'!r}")

    def _is_call_or_grouping(self) -> bool:
        following = self.tokens[self.i + 1]
        return following.value in ("(", "by", "without")

    def _grouping(self) -> tuple[str, list[str]] | None:
        if self.tok.value not in ("by", "without"):
            return None
        mode = self.take().value
        self.expect("(")
        labels: list[str] = []
        while self.tok.value != ")":
            label = self.take()
            if label.kind != "ident":
                raise PromQLError(label.pos, f"unexpected {label.value!r} in grouping opts")
            labels.append(label.value)
            if self.tok.value == ",":
                self.take()
        self.expect(")")
        return mode, labels

    def _aggregation(self) -> Node:
        op = self.take().value
        grouping = self._grouping()
        self.expect("(")
        inner = self.expr()
        self.expect(")")
        after = self._grouping()
        if grouping is not None and after is not None:
            raise PromQLError(self.tok.pos, "aggregation has two grouping clauses")
        return aggregate(op, grouping or after, inner)

    def _range_call(self) -> Node:
        self.take()
        self.expect("(")
        selector = self._selector()
        self.expect("[")
        span = self.take()
        if span.kind != "duration" or not DURATION.match(span.value):
            raise PromQLError(span.pos, f"bad duration {span.value!r}: use 5m, 1h, 30s")
        if self.tok.value.startswith(":"):
            raise self.unsupported("a subquery")
        self.expect("]")
        self.expect(")")

        def without_name(samples: list[Sample]) -> Result:
            found = selector(samples)
            return Result(
                series=[
                    ({k: v for k, v in lb.items() if k != "__name__"}, x) for lb, x in found.series
                ]
            )

        return without_name

    def _selector(self) -> Node:
        matchers: list[Matcher] = []
        if self.tok.kind == "ident":
            matchers.append(Matcher("__name__", "=", self.take().value))
        if self.tok.value == "{":
            self.take()
            while self.tok.value != "}":
                matchers.append(self._matcher())
                if self.tok.value == ",":
                    self.take()
                elif self.tok.value != "}":
                    raise PromQLError(self.tok.pos, f"unexpected {self.tok.value!r} in selector")
            self.take()
        if not any(m.op in ("=", "=~") and m.value for m in matchers):
            raise PromQLError(
                self.tok.pos, "vector selector must contain at least one non-empty matcher"
            )
        if self.tok.value == "offset" or self.tok.value == "@":
            raise self.unsupported(f"'{self.tok.value}'")

        def select(samples: list[Sample]) -> Result:
            chosen = []
            for sample in samples:
                labels = series_labels(sample)
                if all(m.test(labels) for m in matchers):
                    chosen.append((labels, sample.value))
            return Result(series=chosen)

        return select

    def _matcher(self) -> Matcher:
        label = self.take()
        if label.kind != "ident":
            raise PromQLError(label.pos, f"unexpected {label.value!r} in label matching")
        op = self.take()
        if op.value not in MATCH_OPS:
            raise PromQLError(
                op.pos, f"unexpected {op.value!r}, expected a label matching operator"
            )
        text = self.take()
        if text.kind != "string":
            raise PromQLError(text.pos, f"unexpected {text.value!r}, expected a quoted string")
        value = _unquote(text.value)
        pattern = None
        if op.value in ("=~", "!~"):
            try:
                pattern = re.compile(value)
            except re.error as error:
                raise PromQLError(
                    text.pos, f"invalid regular expression {value!r}: {error}"
                ) from None
        return Matcher(label.value, op.value, value, pattern)


def _unquote(literal: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal[1:-1]
    )


def aggregate(op: str, grouping: tuple[str, list[str]] | None, inner: Node) -> Node:
    """``op`` over the inner vector's series, grouped as ``grouping`` says."""

    def key(labels: Labels) -> Labels:
        if grouping is None:
            return {}
        mode, names = grouping
        if mode == "by":
            return {n: labels[n] for n in names if n in labels}
        return {k: v for k, v in labels.items() if k not in names and k != "__name__"}

    def run(samples: list[Sample]) -> Result:
        found = inner(samples)
        if found.scalar is not None:
            raise PromQLError(0, "expected type instant vector in aggregation, got scalar")
        groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[float]]] = {}
        for labels, value in found.series:
            group = key(labels)
            groups.setdefault(tuple(sorted(group.items())), (group, []))[1].append(value)
        return Result(series=[(labels, _combine(op, values)) for labels, values in groups.values()])

    return run


def _combine(op: str, values: list[float]) -> float:
    if op == "sum":
        return sum(values)
    if op == "avg":
        return sum(values) / len(values)
    if op == "min":
        return min(values)
    if op == "max":
        return max(values)
    return float(len(values))


def compile_promql(text: str) -> Node:
    """A function from the fleet's samples to the query's result; ``PromQLError`` when the
    query is malformed or outside the subset."""
    return PromParser(text).parse()
