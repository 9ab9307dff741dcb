"""The dashboard's routes without a host: its files (content types, caching, CSP, nothing
outside `dashboard/`), and who its browser routes let through (a signed-in user, never a
key; a request that changes something only from the dashboard itself)."""

import base64
import json
import re
from pathlib import Path
from types import SimpleNamespace

import azure.functions as func
import pytest

from shared.identity import IdentitySettings, Role
from triggers import browser, dashboard
from triggers.http import NotAllowed, SignInRequired

ROOT = Path(__file__).resolve().parents[2]
HOST = "arcwave.example.net"


def principal(name: str, *roles: str) -> str:
    claims = [{"typ": "preferred_username", "val": name}]
    claims += [{"typ": "roles", "val": role} for role in roles]
    return base64.b64encode(json.dumps({"claims": claims}).encode()).decode()


def request(
    method: str = "GET",
    path: str = "/api/ui/api/rollouts",
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> func.HttpRequest:
    return func.HttpRequest(
        method,
        f"https://{HOST}{path}",
        headers={"Host": HOST, **(headers or {})},
        params=params or {},
        body=b"",
    )


@pytest.fixture
def easy_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    """App Service authentication on, as `WEBSITE_AUTH_ENABLED` says in Azure."""
    settings = SimpleNamespace(identity=IdentitySettings(app_service_auth=True))
    monkeypatch.setattr("triggers.http.app_settings", lambda: settings)


def user(**headers: str) -> dict[str, str]:
    return {"X-MS-CLIENT-PRINCIPAL": principal("ada@contoso.com", Role.OPERATOR), **headers}


# -- who the browser routes let through ----------------------------------------------------


@pytest.mark.usefixtures("easy_auth")
def test_a_signed_in_user_reads() -> None:
    who = browser.signed_in_user(request(headers=user()))
    assert (who.name, who.kind, who.roles) == ("ada@contoso.com", "user", {Role.OPERATOR})


@pytest.mark.usefixtures("easy_auth")
@pytest.mark.parametrize(
    ("headers", "params"),
    [({}, {}), ({"x-functions-key": "a-key"}, {}), ({}, {"code": "a-key"})],
    ids=["nobody", "key header", "key in the query"],
)
def test_anyone_but_a_signed_in_user_is_sent_to_sign_in(
    headers: dict[str, str], params: dict[str, str]
) -> None:
    with pytest.raises(SignInRequired) as refused:
        browser.signed_in_user(request(headers=headers, params=params))
    assert refused.value.login == "/.auth/login/aad?post_login_redirect_uri=/api/ui"


def test_principal_headers_count_for_nothing_without_app_service_authentication(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = SimpleNamespace(identity=IdentitySettings(app_service_auth=False))
    monkeypatch.setattr("triggers.http.app_settings", lambda: settings)
    with pytest.raises(SignInRequired):
        browser.signed_in_user(request(headers=user()))


@pytest.mark.usefixtures("easy_auth")
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Arcwave-Request": "1"},
        {"X-Arcwave-Request": "1", "Origin": f"https://{HOST}"},
        {"X-Arcwave-Request": "1", "Origin": f"http://{HOST.upper()}"},
    ],
    ids=["no origin", "this origin", "this host, any case"],
)
def test_a_command_from_the_dashboard_passes(headers: dict[str, str]) -> None:
    who = browser.signed_in_user(request("POST", "/api/ui/api/rollouts/r/pause", user(**headers)))
    assert who.kind == "user"


@pytest.mark.usefixtures("easy_auth")
@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "X-Arcwave-Request: 1"),
        ({"X-Arcwave-Request": "0"}, "X-Arcwave-Request: 1"),
        ({"X-Arcwave-Request": "1", "Origin": "https://evil.example.com"}, "another site"),
        ({"X-Arcwave-Request": "1", "Origin": f"https://{HOST}.evil.example.com"}, "another"),
        ({"X-Arcwave-Request": "1", "Origin": f"https://{HOST}:444"}, "another site"),
        ({"X-Arcwave-Request": "1", "Origin": "null"}, "another site"),
    ],
    ids=["no header", "wrong header", "other site", "lookalike", "other port", "opaque origin"],
)
def test_a_command_from_elsewhere_is_refused(headers: dict[str, str], says: str) -> None:
    with pytest.raises(NotAllowed, match=re.escape(says)):
        browser.signed_in_user(request("POST", "/api/ui/api/rollouts/r/pause", user(**headers)))


@pytest.mark.usefixtures("easy_auth")
def test_reads_need_no_header() -> None:
    cross = user(Origin="https://evil.example.com")
    assert browser.signed_in_user(request("GET", headers=cross)).kind == "user"


def test_every_browser_route_is_under_ui_api_and_runs_an_operation() -> None:
    names = [name for _, _, name, _ in browser.MIRRORS]
    assert len(set(names)) == len(names)
    for route, methods, name, operation in browser.MIRRORS:
        assert route.startswith("ui/api/") and name.startswith("ui_"), route
        assert methods and callable(operation)


# -- the dashboard's files -----------------------------------------------------------------


def test_the_index_is_served_with_its_headers() -> None:
    response = dashboard.dashboard_index(request(path="/api/ui"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_body() == (ROOT / "dashboard" / "index.html").read_bytes()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")],
)
def test_scripts_and_styles_have_their_types(path: str, content_type: str) -> None:
    response = file(path)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"] == content_type
    assert "Content-Security-Policy" in response.headers


def file(path: str, **headers: str) -> func.HttpResponse:
    req = func.HttpRequest(
        "GET",
        f"https://{HOST}/api/ui/{path}",
        headers=headers,
        route_params={"path": path},
        body=b"",
    )
    return dashboard.dashboard_file(req)


def test_an_unchanged_file_is_a_304() -> None:
    first = file("app.js")
    tag = first.headers["ETag"]
    again = file("app.js", **{"If-None-Match": tag})
    assert again.status_code == 304 and again.get_body() == b""
    assert file("app.js", **{"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["nothing.js", "../function_app.py", "..%2Ffunction_app.py", "/etc/passwd", "api/me", ".x.js"],
)
def test_nothing_else_is_served(path: str) -> None:
    assert file(path).status_code == 404


def test_every_file_is_served_and_none_holds_inline_script_or_style() -> None:
    served = dashboard.files()
    on_disk = {
        p.relative_to(ROOT / "dashboard").as_posix()
        for p in (ROOT / "dashboard").rglob("*")
        if p.is_file()
    }
    assert set(served) == on_disk
    for name, found in served.items():
        if name.endswith(".html"):
            text = found.body.decode()
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), name
            assert not re.search(r"\son\w+\s*=", text), name
            assert "style=" not in text and "<style" not in text, name
            assert "http://" not in text and "https://" not in text, f"{name}: offline only"
        if name.endswith(".js"):
            text = found.body.decode()
            assert not re.search(r"\bimport\s*\(?\s*['\"]https?:", text), name
            assert "eval(" not in text and "new Function" not in text, name
            assert "innerHTML" not in text, f"{name}: build nodes, never parse HTML"


def test_the_dashboard_ships_with_the_app() -> None:
    import runpy

    packager = runpy.run_path(str(ROOT / "infra" / "pipelines" / "package_app.py"))
    rules = packager["parse_rules"]((ROOT / ".funcignore").read_text())
    assert not packager["ignored"]("dashboard", True, rules)
    assert not packager["ignored"]("dashboard/index.html", False, rules)


STATES_JS = ROOT / "dashboard" / "states.js"


def js_strings(pattern: str) -> list[str]:
    """The quoted words inside what `pattern`'s group matches in dashboard/states.js."""
    found = re.search(pattern, STATES_JS.read_text(), re.S)
    assert found, pattern
    return re.findall(r'"(\w+)"', found.group(1))


def test_the_dashboard_knows_every_state() -> None:
    from shared.states import ClusterState, RolloutState, WaveState

    rollout_states = js_strings(r"export const ROLLOUT_STATES = \[(.*?)\];")
    assert rollout_states == [s.value for s in RolloutState]
    cluster_states = js_strings(r"export const CLUSTER_STATES = \[(.*?)\];")
    assert sorted(cluster_states) == sorted(s.value for s in ClusterState)
    final = js_strings(r"export const FINAL = new Set\(\[(.*?)\]\)")
    assert set(final) == {s.value for s in RolloutState if s.is_terminal}
    tones = STATES_JS.read_text()
    for state in {*RolloutState, *WaveState, *ClusterState}:
        assert re.search(rf"\b{state.value}: \"", tones), f"{state.value} has no tone"
