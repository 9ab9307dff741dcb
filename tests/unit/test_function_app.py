"""The function app as the Functions host indexes it, and the files that ship with it."""

import json
import os
from pathlib import Path

import azure.functions as func
import pytest

from shared.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def functions() -> dict[str, object]:
    import function_app

    # get_functions() may only be called once per app (it validates unique names).
    return {f.get_function_name(): f for f in function_app.app.get_functions()}


def test_healthz_is_registered_anonymous_get(functions: dict[str, object]) -> None:
    healthz = functions["healthz"]
    binding = json.loads(healthz.get_function_json())["bindings"][0]  # type: ignore[attr-defined]
    assert binding["type"] == "httpTrigger"
    assert binding["route"] == "healthz"
    assert binding["methods"] == ["GET"]
    assert binding["authLevel"] == "ANONYMOUS"


def test_healthz_answers_ok_with_the_version(functions: dict[str, object]) -> None:
    from shared.version import __version__

    handler = functions["healthz"].get_user_function()  # type: ignore[attr-defined]
    response = handler(func.HttpRequest("GET", "http://localhost/api/healthz", body=b""))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body()) == {"status": "ok", "version": __version__}


def test_activities_are_registered_under_their_contract_names(
    functions: dict[str, object],
) -> None:
    from shared.contracts import activities as contracts

    names = {}
    for function in functions.values():
        bindings = json.loads(function.get_function_json())["bindings"]  # type: ignore[attr-defined]
        trigger = next(b for b in bindings if b["type"].endswith("Trigger"))
        if trigger["type"] == "activityTrigger":
            names[trigger.get("activity") or function.get_function_name()] = trigger  # type: ignore[attr-defined]
    expected = {
        contracts.PLAN,
        contracts.ADVANCE,
        contracts.OBSERVE,
        contracts.RESTORE,
        contracts.UNRESTORED,
        contracts.RECORD,
        contracts.READ_CONTROL,
        contracts.RECOVERY,
        contracts.METRIC_GATES,
    }
    assert set(names) == expected


def test_indexing_needs_no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    for name in [n for n in os.environ if n.startswith("ARCWAVE_")]:
        monkeypatch.delenv(name)
    import function_app

    importlib.reload(function_app)


def test_a_bad_setting_stops_the_app_as_it_starts_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib

    from shared import runtime

    monkeypatch.setenv("ARCWAVE_STORE", f"sqlite:///{tmp_path}/a.db")
    monkeypatch.setenv("ARCWAVE_POLL_SECONDS", "fast")
    runtime.app_settings.cache_clear()
    import function_app

    try:
        with pytest.raises(SettingsError, match="ARCWAVE_POLL_SECONDS='fast' is not a number"):
            importlib.reload(function_app)
    finally:
        runtime.app_settings.cache_clear()


def test_function_app_only_builds_the_app_and_registers_blueprints() -> None:
    import ast

    tree = ast.parse((ROOT / "function_app.py").read_text())
    body = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    statements = [ast.unparse(node) for node in body[1:]]  # after the docstring
    assert statements[0] == "check_settings_at_start()"
    assert statements[1].startswith("app = df.DFApp(")
    assert all(s.startswith("app.register_functions(") for s in statements[2:])


def test_host_json() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {
        "id": "Microsoft.Azure.Functions.ExtensionBundle",
        "version": "[4.*, 5.0.0)",
    }
    assert host["extensions"]["http"]["routePrefix"] == "api"
    durable = host["extensions"]["durableTask"]
    assert durable["hubName"] == "%ARCWAVE_TASK_HUB%"
    assert durable["storageProvider"] == {
        "type": "azureManaged",
        "connectionStringName": "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    }
    assert durable["maxConcurrentActivityFunctions"] > 0
    assert durable["maxConcurrentOrchestratorFunctions"] > 0
    assert durable["overridableExistingInstanceStates"] == "NonRunningStates"


def test_local_settings_sample_names_the_task_hub_setting() -> None:
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert values["ARCWAVE_TASK_HUB"]


def test_ci_runs_the_one_test_command() -> None:
    script = (ROOT / ".ci/run").read_text()
    assert "make test" in script


@pytest.mark.parametrize("folder", ["devhost/", "emulator/", "cli/", "tests/", "bench/"])
def test_local_tools_stay_out_of_the_deployed_package(folder: str) -> None:
    ignored = (ROOT / ".funcignore").read_text().splitlines()
    assert folder in ignored


def test_runtime_requirements_are_pinned() -> None:
    lines = [
        line
        for line in (ROOT / "requirements.in").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines and all("==" in line for line in lines)


def registered_routes(functions: dict[str, object]) -> dict[tuple[str, str], str]:
    """(method, /api/route with plain `{name}` parameters) → the route's auth level."""
    import re

    registered: dict[tuple[str, str], str] = {}
    for function in functions.values():
        bindings = json.loads(function.get_function_json())["bindings"]  # type: ignore[attr-defined]
        triggers = [b for b in bindings if b["type"] == "httpTrigger"]
        if not triggers:
            continue
        binding = triggers[0]
        route = re.sub(r"\{\*?(\w+)(:\w+)?\??\}", r"{\1}", binding["route"])
        for method in binding.get("methods") or ["GET"]:
            registered[(method.lower(), f"/api/{route}")] = binding["authLevel"]
    return registered


DASHBOARD_FILES = {("get", "/api/ui"), ("get", "/api/ui/{path}")}
"""The dashboard's files (triggers/dashboard.py): no data, anonymous."""


def browser_routes() -> set[tuple[str, str]]:
    """The dashboard's data and actions (triggers/browser.py)."""
    from triggers.browser import MIRRORS

    return {
        (method.lower(), "/api/" + route.replace(":alpha", ""))
        for route, methods, _, _ in MIRRORS
        for method in methods
    }


def test_openapi_documents_exactly_the_registered_routes(functions: dict[str, object]) -> None:
    """The OpenAPI document describes the API programs call, with the function key. The
    dashboard's routes are deliberately left out of it: its files, and its browser routes,
    which take only a signed-in browser's session (no key) and are documented in
    docs/dashboard.md; each browser route but `me` and `tracks` mirrors a documented one."""
    from triggers.openapi import ROUTES, document

    registered = set(registered_routes(functions))
    documented = {(m, path) for path, methods in ROUTES.items() for m in methods}
    assert documented == registered - DASHBOARD_FILES - browser_routes()
    own = {("get", "/api/ui/api/me"), ("get", "/api/ui/api/tracks")}
    mirrored = {(m, path.replace("/api/ui/api/", "/api/")) for m, path in browser_routes() - own}
    assert mirrored <= documented
    assert DASHBOARD_FILES | browser_routes() <= registered
    doc = document()
    assert doc["openapi"] == "3.1.0"
    assert "TrackSpec" in doc["components"]["schemas"]
    json.dumps(doc)  # serialisable as served


# The routes a caller reaches without a function key: each verifies a signature (webhooks, Flux
# events), is public (health, the API's description, the dashboard's files), or requires a
# signed-in user from App Service authentication's principal and refuses a key (the dashboard's
# browser routes: tests/unit/test_browser.py). App Service authentication lets every request
# through (infra/app/function.bicep: requireAuthentication false, on purpose), so the host's
# function key is what guards every other route.
ANONYMOUS_ROUTES = {
    *(path for _, path in DASHBOARD_FILES | browser_routes()),
    "/api/hooks/{provider}",
    "/api/flux/events",
    "/api/healthz",
    "/api/openapi.json",
}


def test_every_operator_route_needs_a_function_key(functions: dict[str, object]) -> None:
    levels = {path: level for (_, path), level in registered_routes(functions).items()}
    assert not ANONYMOUS_ROUTES - levels.keys(), "an anonymous route is gone: update the list"
    keyless = {
        route: level
        for route, level in levels.items()
        if route not in ANONYMOUS_ROUTES and level != "FUNCTION"
    }
    assert keyless == {}, f"operator routes without function-key auth: {keyless}"
