"""Typed application state shared by the server's handlers and background tasks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from devhost.config import HostConfig
from devhost.durable.engine import Engine
from devhost.durable.store import Store
from devhost.invoke import Invoker
from devhost.loader import FunctionIndex
from devhost.routes import RouteTable
from devhost.timers import TimerRunner


@dataclass
class Endpoint:
    """Where devhost listens; the port is known only after the socket is bound (port 0)."""

    host: str
    port: int

    @property
    def connect_host(self) -> str:
        return "127.0.0.1" if self.host in {"0.0.0.0", "", "localhost", "::"} else self.host

    @property
    def base_url(self) -> str:
        return f"http://{self.connect_host}:{self.port}"


CONFIG = web.AppKey("config", HostConfig)
INDEX = web.AppKey("index", FunctionIndex)
STORE = web.AppKey("store", Store)
ENGINE = web.AppKey("engine", Engine)
ENDPOINT = web.AppKey("endpoint", Endpoint)
INVOKER = web.AppKey("invoker", Invoker)
ROUTES = web.AppKey("routes", RouteTable)
#: Set once the socket is bound; timers wait for it so their functions can call devhost back.
LISTENING = web.AppKey("listening", asyncio.Event)
TIMERS = web.AppKey("timers", TimerRunner)
"""The timer runner, once the background tasks start (for `POST /admin/functions/{name}`)."""
