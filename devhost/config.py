"""Host settings: host.json, local.settings.json and the command line, resolved once at start."""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HUB = "TestHubName"
_SETTING_REF = re.compile(r"%([^%]+)%")


class ConfigError(Exception):
    """The app folder or its settings cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class HostConfig:
    """Everything devhost needs to know about the app folder and how to serve it."""

    app_dir: Path
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 7071
    route_prefix: str = "api"
    hub_name: str = DEFAULT_HUB
    max_activities: int = 10
    max_orchestrators: int = 10
    function_key: str = ""
    master_key: str = ""
    keys_generated: bool = False
    overridable_states: str = "NonRunningStates"
    easy_auth: bool = False
    """App Service authentication (Easy Auth) with Microsoft Entra ID: `DEVHOST_EASY_AUTH=1`."""
    raw_host_json: dict[str, Any] = field(default_factory=dict)


def resolve_setting_refs(text: str) -> str:
    """Replace `%NAME%` with the app setting NAME, as the Functions host does for binding values."""
    return _SETTING_REF.sub(lambda m: os.environ.get(m.group(1), m.group(0)), text)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc}); fix the file and start again"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def load_local_settings(app_dir: Path) -> list[str]:
    """Copy `Values` of local.settings.json into os.environ without overriding what is set.

    Returns the names that were applied (never their values: they may be secrets).
    """
    path = app_dir / "local.settings.json"
    if not path.is_file():
        return []
    values = _read_json(path).get("Values") or {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: 'Values' must be an object of strings")
    applied = []
    for name, value in values.items():
        if name not in os.environ and value is not None:
            os.environ[name] = str(value)
            applied.append(name)
    return applied


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_flag(name: str) -> bool:
    """An on/off environment setting: 1/true/yes/on or 0/false/no/off (or unset), any case."""
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 (on) or 0 (off), got {os.environ[name]!r}")


def _positive_int(value: Any, where: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"host.json {where} must be a positive integer, got {value!r}")
    return value


def load_config(
    app_dir: Path,
    *,
    state_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 7071,
) -> HostConfig:
    """Read host.json and the environment (after local settings were applied) into a HostConfig."""
    app_dir = app_dir.resolve()
    if not (app_dir / "function_app.py").is_file():
        raise ConfigError(
            f"no function_app.py in {app_dir}; pass --app with the folder that holds it"
        )
    host_json_path = app_dir / "host.json"
    host_json = _read_json(host_json_path) if host_json_path.is_file() else {}
    extensions = host_json.get("extensions") or {}
    http = extensions.get("http") or {}
    durable = extensions.get("durableTask") or {}
    prefix = http.get("routePrefix", "api")
    if not isinstance(prefix, str):
        raise ConfigError("host.json extensions.http.routePrefix must be a string")
    hub = resolve_setting_refs(str(durable.get("hubName") or DEFAULT_HUB))
    if "%" in hub:
        hub = DEFAULT_HUB
    cpus = os.cpu_count() or 1
    function_key = os.environ.get("DEVHOST_FUNCTION_KEY", "")
    master_key = os.environ.get("DEVHOST_MASTER_KEY", "")
    generated = not function_key
    function_key = function_key or secrets.token_urlsafe(24)
    master_key = master_key or function_key
    return HostConfig(
        app_dir=app_dir,
        state_dir=(state_dir or app_dir / ".devhost").resolve(),
        host=host,
        port=port,
        route_prefix=prefix.strip("/"),
        hub_name=hub,
        max_activities=_positive_int(
            durable.get("maxConcurrentActivityFunctions"),
            "extensions.durableTask.maxConcurrentActivityFunctions",
            10 * cpus,
        ),
        max_orchestrators=_positive_int(
            durable.get("maxConcurrentOrchestratorFunctions"),
            "extensions.durableTask.maxConcurrentOrchestratorFunctions",
            10 * cpus,
        ),
        function_key=function_key,
        master_key=master_key,
        keys_generated=generated,
        overridable_states=str(
            durable.get("overridableExistingInstanceStates", "NonRunningStates")
        ),
        easy_auth=env_flag("DEVHOST_EASY_AUTH"),
        raw_host_json=host_json,
    )
