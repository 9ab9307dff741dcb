"""Function keys: anonymous routes are open, function routes take the function or master key,
admin routes take the master key; the key comes in `?code=` or the `x-functions-key` header."""

from __future__ import annotations

import hmac

from aiohttp import web

from devhost.config import HostConfig


def presented_key(request: web.Request) -> str | None:
    return request.query.get("code") or request.headers.get("x-functions-key")


def _same(a: str | None, b: str) -> bool:
    return a is not None and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def authorized(request: web.Request, level: str, config: HostConfig) -> bool:
    """True when the request may call a function with auth level `level`."""
    level = level.upper()
    if level == "ANONYMOUS":
        return True
    key = presented_key(request)
    if level == "ADMIN":
        return _same(key, config.master_key)
    return _same(key, config.function_key) or _same(key, config.master_key)
