"""The route table type: a regex over the ARM path and one handler per HTTP method."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]
    write_log: bool = False
    """Writes to this path go to ``GET /_emulator/writes``."""


def resolve(routes: list[Route], path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None
