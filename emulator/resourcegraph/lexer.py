"""KQL tokens: strings (``'…'``, ``"…"``, verbatim ``@'…'``), numbers, names, operators."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.resourcegraph.exceptions import QueryError

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
    """The tokens of ``text`` without white space and comments, then an ``end`` token."""
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
    """A string token's value: verbatim strings keep backslashes, others unescape them."""
    if literal.startswith("@"):
        return literal[2:-1]
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)
