"""Loading an app folder: host.json, local.settings.json, function discovery and its errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
import pytest

from devhost.config import ConfigError, load_config, load_local_settings
from devhost.eventgrid import parse_events
from devhost.loader import ACTIVITY, index_functions


def write_app(folder: Path, host_json: dict | None = None, settings: dict | None = None) -> Path:
    (folder / "function_app.py").write_text("app = None\n")
    if host_json is not None:
        (folder / "host.json").write_text(json.dumps(host_json))
    if settings is not None:
        (folder / "local.settings.json").write_text(json.dumps({"Values": settings}))
    return folder


def test_host_json_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_UNIT_HUB", "UnitHub")
    monkeypatch.setenv("DEVHOST_FUNCTION_KEY", "fixed-key")
    monkeypatch.delenv("DEVHOST_MASTER_KEY", raising=False)
    host_json = {
        "extensions": {
            "http": {"routePrefix": "/v1/"},
            "durableTask": {
                "hubName": "%DEVHOST_UNIT_HUB%",
                "maxConcurrentActivityFunctions": 3,
                "maxConcurrentOrchestratorFunctions": 2,
            },
        }
    }
    config = load_config(write_app(tmp_path, host_json))
    assert config.route_prefix == "v1"
    assert config.hub_name == "UnitHub"
    assert (config.max_activities, config.max_orchestrators) == (3, 2)
    assert config.function_key == config.master_key == "fixed-key"
    assert not config.keys_generated
    assert config.state_dir == tmp_path / ".devhost"


def test_empty_route_prefix_and_generated_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEVHOST_FUNCTION_KEY", raising=False)
    config = load_config(write_app(tmp_path, {"extensions": {"http": {"routePrefix": ""}}}))
    assert config.route_prefix == ""
    assert config.keys_generated and len(config.function_key) >= 20


def test_local_settings_never_override_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVHOST_UNIT_SET", "from-env")
    monkeypatch.delenv("DEVHOST_UNIT_NEW", raising=False)
    write_app(tmp_path, settings={"DEVHOST_UNIT_SET": "file", "DEVHOST_UNIT_NEW": "file"})
    applied = load_local_settings(tmp_path)
    assert applied == ["DEVHOST_UNIT_NEW"]
    assert os.environ["DEVHOST_UNIT_SET"] == "from-env"
    assert os.environ["DEVHOST_UNIT_NEW"] == "file"
    monkeypatch.delenv("DEVHOST_UNIT_NEW")


@pytest.mark.parametrize(
    ("host_json", "needle"),
    [
        ('{"extensions": ', "not valid JSON"),
        ('{"extensions": {"durableTask": {"maxConcurrentActivityFunctions": 0}}}', "positive"),
        ("[]", "JSON object"),
    ],
)
def test_bad_host_json_says_what_to_fix(tmp_path: Path, host_json: str, needle: str) -> None:
    write_app(tmp_path)
    (tmp_path / "host.json").write_text(host_json)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert needle in str(err.value)


def test_missing_function_app_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(tmp_path) in str(err.value) and "--app" in str(err.value)


def test_index_resolves_durable_names_and_python_name_alias() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.activity_trigger(input_name="x", activity="Renamed")
    def python_name(x: int) -> int:
        return x

    @app.route(route="r")
    def route(req: func.HttpRequest) -> str:
        return "r"

    index = index_functions(app)
    assert index.activities["renamed"].trigger_type == ACTIVITY
    assert index.activities["python_name"] is index.activities["renamed"]
    assert [s.name for s in index.http] == ["route"]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"nope", "not JSON"),
        (b"[]", "empty"),
        (b"[3]", "not a JSON object"),
        (b'{"specversion": "1.0"}', "lacks id"),
    ],
)
def test_event_grid_body_errors(raw: bytes, needle: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_events(raw)
    assert needle in str(err.value)
