"""A minimal `func.Context` for functions that declare a `context` parameter."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

import azure.functions as func


class InvocationContext(func.Context):
    """What the worker passes as `context`: invocation id, function name and directory."""

    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return None


def wants_context(fn: Callable[..., Any]) -> bool:
    """True when the user function (or a durable wrapper's client function) takes `context`."""
    target = getattr(fn, "client_function", fn)
    try:
        return "context" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
