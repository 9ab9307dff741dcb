"""The route table type: a regex over the ARM path and one handler per HTTP method."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]
HeaderSource = Callable[[web.Request], dict[str, str]]

RESPONSE_HEADERS: web.RequestKey[dict[str, str]] = web.RequestKey("response_headers")
"""Headers a handler wants on its answer whatever it is, errors included."""


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]
    write_log: bool = False
    """Writes to this path go to ``GET /_emulator/writes``."""
    headers: HeaderSource | None = None
    """Headers for answers on this path that never reached a handler (401, 405)."""


def resolve(routes: list[Route], path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None
