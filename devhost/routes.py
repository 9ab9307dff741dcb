"""HTTP trigger route templates (`{name}`, `{name?}`, `{name:int}`, `{*rest}`) matched like ASP.NET.

Literal segments match case-insensitively. When several templates match, the most specific
wins: literal segments beat parameters, constrained parameters beat plain ones, and
optional or catch-all parameters come last.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devhost.config import ConfigError

_PARAM = re.compile(r"^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)((?::[^{}?=]+)*)(\?)?\}$")


def _is_int(v: str, bits: int) -> bool:
    if not re.fullmatch(r"-?\d+", v):
        return False
    limit: int = 2 ** (bits - 1)
    return -limit <= int(v) < limit


def _parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    """A constraint that holds when `parse` accepts the value (raises no ValueError)."""

    def check(v: str) -> bool:
        try:
            parse(v)
        except ValueError:
            return False
        return True

    return check


def _is_float(v: str) -> bool:
    finite = v.strip().lower() not in {"nan", "inf", "-inf", "infinity", "-infinity"}
    return finite and _parses(float)(v)


_SIMPLE: dict[str, Callable[[str], bool]] = {
    "int": lambda v: _is_int(v, 32),
    "long": lambda v: _is_int(v, 64),
    "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
    "bool": lambda v: v.lower() in {"true", "false"},
    "guid": _parses(uuid.UUID),
    "double": _is_float,
    "float": _is_float,
    "decimal": _is_float,
    "datetime": _parses(datetime.fromisoformat),
}


def _constraint(text: str) -> Callable[[str], bool]:
    m = re.fullmatch(r"(\w+)(?:\((.*)\))?", text)
    if not m:
        raise ConfigError(f"route constraint ':{text}' is not understood")
    name, arg = m.group(1).lower(), m.group(2)
    if arg is None and name in _SIMPLE:
        return _SIMPLE[name]
    if name == "regex" and arg is not None:
        pattern = re.compile(arg)
        return lambda v: pattern.search(v) is not None
    if arg is not None:
        nums = [a.strip() for a in arg.split(",")]
        try:
            n = [int(x) for x in nums]
        except ValueError:
            raise ConfigError(f"route constraint ':{text}' needs integer arguments") from None
        checks: dict[str, Callable[[str], bool]] = {
            "minlength": lambda v: len(v) >= n[0],
            "maxlength": lambda v: len(v) <= n[0],
            "length": lambda v: len(v) == n[0] if len(n) == 1 else n[0] <= len(v) <= n[1],
            "min": lambda v: _is_int(v, 64) and int(v) >= n[0],
            "max": lambda v: _is_int(v, 64) and int(v) <= n[0],
            "range": lambda v: _is_int(v, 64) and n[0] <= int(v) <= n[-1],
        }
        if name in checks:
            return checks[name]
    raise ConfigError(
        f"route constraint ':{text}' is not supported; use int, long, alpha, bool, guid, "
        "double, float, decimal, datetime, minlength(n), maxlength(n), length(n), min(n), "
        "max(n), range(a,b) or regex(...)"
    )


@dataclass(frozen=True)
class _Segment:
    literal: str | None
    name: str = ""
    optional: bool = False
    catch_all: bool = False
    checks: tuple[Callable[[str], bool], ...] = ()


@dataclass(frozen=True)
class RouteTemplate:
    """A parsed route template that matches URL paths (relative to the route prefix)."""

    template: str
    segments: tuple[_Segment, ...]

    @classmethod
    def parse(cls, template: str) -> RouteTemplate:
        segments = []
        parts = [p for p in template.strip("/").split("/") if p != ""]
        for i, part in enumerate(parts):
            if "{" not in part:
                segments.append(_Segment(literal=part))
                continue
            m = _PARAM.match(part)
            if not m:
                raise ConfigError(
                    f"route '{template}': segment '{part}' must be a literal or one whole "
                    "parameter like {name}, {name?}, {name:int} or {*rest}"
                )
            catch_all = m.group(1) == "*"
            if catch_all and i != len(parts) - 1:
                raise ConfigError(f"route '{template}': a catch-all parameter must be last")
            checks = tuple(_constraint(c) for c in m.group(3).split(":")[1:])
            segments.append(
                _Segment(
                    literal=None,
                    name=m.group(2),
                    optional=bool(m.group(4)) or catch_all,
                    catch_all=catch_all,
                    checks=checks,
                )
            )
        return cls(template, tuple(segments))

    def specificity(self) -> tuple[int, ...]:
        """Sort key: smaller sorts first, i.e. more specific templates are tried first."""
        key = []
        for s in self.segments:
            if s.literal is not None:
                key.append(0)
            elif s.catch_all:
                key.append(4)
            elif s.optional:
                key.append(3)
            elif s.checks:
                key.append(1)
            else:
                key.append(2)
        return (*key, 5)

    def match(self, path: str) -> dict[str, str] | None:
        """Return the route parameters when `path` matches, else None."""
        parts = [p for p in path.strip("/").split("/") if p != ""] if path.strip("/") else []
        params: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            if seg.catch_all:
                rest = "/".join(parts[i:])
                if rest:
                    params[seg.name] = rest
                return params
            if i >= len(parts):
                if all(s.optional for s in self.segments[i:]):
                    return params
                return None
            value = parts[i]
            if seg.literal is not None:
                if seg.literal.lower() != value.lower():
                    return None
                continue
            if not all(check(value) for check in seg.checks):
                return None
            params[seg.name] = value
        return params if len(parts) == len(self.segments) else None


@dataclass
class Route:
    """One HTTP trigger bound to a template and a set of methods (empty = all)."""

    template: RouteTemplate
    methods: frozenset[str]
    target: Any


class RouteTable:
    """HTTP trigger routes in match order."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, template: str, methods: list[str] | None, target: Any) -> None:
        route = Route(
            RouteTemplate.parse(template), frozenset(m.upper() for m in methods or []), target
        )
        self._routes.append(route)
        self._routes.sort(key=lambda r: r.template.specificity())

    def resolve(self, method: str, path: str) -> tuple[Any, dict[str, str]] | None:
        """The function for `method` and `path`; None when nothing matches (Azure answers 404)."""
        for route in self._routes:
            if route.methods and method.upper() not in route.methods:
                continue
            params = route.template.match(path)
            if params is not None:
                return route.target, params
        return None
