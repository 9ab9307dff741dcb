"""Typed application state keys shared by the server and the service handlers."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from emulator.backend import Backend

BACKEND = web.AppKey("backend", Backend)
STATE_PATH = web.AppKey("state_path", Path)
