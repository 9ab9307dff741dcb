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

The engine is in four parts: :mod:`~emulator.resourcegraph.lexer` (tokens),
:mod:`~emulator.resourcegraph.parser` (the grammar above),
:mod:`~emulator.resourcegraph.evaluator` (what each part computes, as closures) and
:mod:`~emulator.resourcegraph.scalars` (KQL's value semantics).
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.resourcegraph.evaluator import Row, Stage
from emulator.resourcegraph.parser import Parser


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
