"""Load a function app folder generically and index its functions by trigger.

devhost never imports a particular app: it imports `DIR/function_app.py`, finds the
`FunctionApp`/`DFApp` object in it and reads each function's bindings, exactly the
metadata the Functions host reads from the worker.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func

from devhost.config import ConfigError

HTTP = "httpTrigger"
EVENT_GRID = "eventGridTrigger"
TIMER = "timerTrigger"
ORCHESTRATION = "orchestrationTrigger"
ACTIVITY = "activityTrigger"
ENTITY = "entityTrigger"
DURABLE_CLIENT = "durableClient"


@dataclass
class FunctionSpec:
    """One function as the host sees it: its name, trigger binding, other bindings and callable."""

    name: str
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]
    call: Callable[..., Any]

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.call)

    @property
    def client_binding(self) -> dict[str, Any] | None:
        """The durableClient input binding, if the function has one."""
        return next((b for b in self.bindings if b.get("type") == DURABLE_CLIENT), None)


@dataclass
class FunctionIndex:
    """The app's functions grouped the way each part of the host looks them up."""

    all: dict[str, FunctionSpec] = field(default_factory=dict)
    http: list[FunctionSpec] = field(default_factory=list)
    event_grid: dict[str, FunctionSpec] = field(default_factory=dict)
    timers: list[FunctionSpec] = field(default_factory=list)
    orchestrators: dict[str, FunctionSpec] = field(default_factory=dict)
    activities: dict[str, FunctionSpec] = field(default_factory=dict)
    entities: dict[str, FunctionSpec] = field(default_factory=dict)


def missing_function(name: str, kind: str) -> str:
    """The host's message for a name that is no `kind` ("activity", "orchestrator") function."""
    return f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function."


def _find_app(module: Any, path: Path) -> func.FunctionRegister:
    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    if not apps:
        raise ConfigError(
            f"{path} defines no FunctionApp or DFApp at module level; "
            "create one with `app = df.DFApp()` or `app = func.FunctionApp()`"
        )
    if len({id(a) for a in apps}) > 1:
        raise ConfigError(f"{path} defines more than one FunctionApp; keep exactly one")
    return apps[0]


def import_app(app_dir: Path) -> func.FunctionRegister:
    """Import DIR/function_app.py as the module `function_app`, with DIR first on sys.path."""
    path = app_dir / "function_app.py"
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    spec = importlib.util.spec_from_file_location("function_app", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    spec.loader.exec_module(module)
    return _find_app(module, path)


def _durable_name(spec: FunctionSpec, prop: str) -> str:
    return str(spec.trigger.get(prop) or spec.name)


def _register(table: dict[str, FunctionSpec], name: str, spec: FunctionSpec, kind: str) -> None:
    other = table.get(name.lower())
    if other is not None and other is not spec:
        raise ConfigError(
            f"two {kind} functions are named '{name}' ('{other.name}' and '{spec.name}'); "
            "rename one of them"
        )
    table[name.lower()] = spec


def index_functions(app: func.FunctionRegister) -> FunctionIndex:
    """Build the FunctionIndex. `get_functions()` may only be called once per app object."""
    index = FunctionIndex()
    for fn in app.get_functions():
        bindings = json.loads(fn.get_function_json())["bindings"]
        trigger = next((b for b in bindings if str(b.get("type", "")).endswith("Trigger")), None)
        if trigger is None:
            raise ConfigError(f"function '{fn.get_function_name()}' has no trigger binding")
        spec = FunctionSpec(str(fn.get_function_name()), trigger, bindings, fn.get_user_function())
        index.all[spec.name.lower()] = spec
        kind = spec.trigger_type
        if kind == HTTP:
            index.http.append(spec)
        elif kind == EVENT_GRID:
            index.event_grid[spec.name.lower()] = spec
        elif kind == TIMER:
            index.timers.append(spec)
        elif kind == ORCHESTRATION:
            _register(
                index.orchestrators, _durable_name(spec, "orchestration"), spec, "orchestrator"
            )
        elif kind == ACTIVITY:
            _register(index.activities, _durable_name(spec, "activity"), spec, "activity")
        elif kind == ENTITY:
            _register(index.entities, _durable_name(spec, "entityName"), spec, "entity")
    for spec in list(index.activities.values()):
        # `context.call_activity(fn)` sends the Python __name__, so accept it as an alias.
        alias = getattr(spec.call, "__name__", "").lower()
        if alias and alias not in index.activities:
            index.activities[alias] = spec
    return index


def load_app(app_dir: Path) -> FunctionIndex:
    """Import the app folder and index its functions."""
    return index_functions(import_app(app_dir))
