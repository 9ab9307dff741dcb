"""A minimal `func.Context` for functions that declare a `context` parameter."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import azure.functions as func


class InvocationContext(func.Context):
    """What the worker passes as `context`: invocation id, function name and directory.

    devhost has no distributed tracing, retry policy or per-invocation thread storage, so
    `trace_context`, `retry_context` and `thread_local_storage` are None.
    """

    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory

    invocation_id = property(attrgetter("_invocation_id"))
    function_name = property(attrgetter("_function_name"))
    function_directory = property(attrgetter("_function_directory"))
    trace_context = retry_context = thread_local_storage = property(lambda _: None)


def wants_context(fn: Callable[..., Any]) -> bool:
    """True when the user function (or a durable wrapper's client function) takes `context`."""
    target = getattr(fn, "client_function", fn)
    try:
        return "context" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
