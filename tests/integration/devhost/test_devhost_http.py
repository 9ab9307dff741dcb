"""HTTP triggers: routes, constraints, methods, keys, request and response mapping."""

from __future__ import annotations

import pytest

from devhost.testing import DevHost

pytestmark = pytest.mark.integration


def test_host_status_reports_running(host: DevHost) -> None:
    """The readiness endpoint answers 200 with state Running and the loaded functions."""
    status, body = host.request("GET", "/admin/host/status")
    assert status == 200
    assert body["state"] == "Running"
    assert "hello" in body["functions"]


def test_anonymous_route_with_alpha_constraint(host: DevHost) -> None:
    """`{name:alpha}` matches letters only; local.settings.json values reach the app."""
    assert host.request("GET", "/api/hello/world") == (200, "hello world")
    assert host.request("GET", "/api/hello/w0rld")[0] == 404


def test_route_prefix_and_literal_segments_are_case_insensitive(host: DevHost) -> None:
    """ASP.NET routing ignores the case of literal segments."""
    assert host.request("GET", "/API/Hello/world") == (200, "hello world")
    assert host.request("GET", "/api/HELLO/world") == (200, "hello world")


def test_function_key_is_required(host: DevHost) -> None:
    """Function-level routes answer 401 without a valid key, in the query or the header."""
    assert host.request("GET", "/api/items/1")[0] == 401
    assert host.request("GET", "/api/items/1?code=wrong")[0] == 401
    assert host.request("GET", f"/api/items/1?code={host.function_key}")[0] == 200
    ok = host.request("GET", "/api/items/1", headers={"x-functions-key": host.function_key})
    assert ok[0] == 200


def test_admin_route_takes_the_master_key(host: DevHost) -> None:
    """With no DEVHOST_MASTER_KEY set, the master key is the function key."""
    assert host.request("GET", "/api/admin-only")[0] == 401
    assert host.request("GET", f"/api/admin-only?code={host.function_key}") == (200, "admin")


def test_request_mapping(host: DevHost) -> None:
    """Method, int route param, optional param, query, headers and raw body reach the function."""
    status, body = host.request(
        "POST",
        f"/api/items/42/blue?code={host.function_key}&x=1",
        raw=b"\x00raw body",
        headers={"X-Test": "abc", "Content-Type": "application/octet-stream"},
    )
    assert status == 200
    assert body == {
        "method": "POST",
        "route": {"id": "42", "label": "blue"},
        "query": {"code": host.function_key, "x": "1"},
        "header": "abc",
        "body": "\x00raw body",
    }


def test_optional_parameter_may_be_absent(host: DevHost) -> None:
    """`{label?}` matches with and without the segment."""
    status, body = host.request("GET", f"/api/items/7?code={host.function_key}")
    assert status == 200
    assert body["route"] == {"id": "7"}


def test_int_constraint_and_literal_precedence(host: DevHost) -> None:
    """A literal segment wins over a parameter; a non-int id does not match `{id:int}`."""
    assert host.request("GET", f"/api/items/special?code={host.function_key}") == (200, "special")
    assert host.request("GET", f"/api/items/abc/x?code={host.function_key}")[0] == 404


def test_method_not_allowed_is_not_found(host: DevHost) -> None:
    """A route restricted to POST does not match GET (Azure answers 404)."""
    assert host.request("GET", "/api/echo")[0] == 404


def test_async_function_response_status_headers_and_bytes(host: DevHost) -> None:
    """Async functions run; HttpResponse status, headers, mimetype and bytes come back."""
    status, headers, body = host.raw("POST", "/api/echo", data=b"\x01\x02payload")
    assert status == 201
    assert headers["X-Echo"] == "yes"
    assert headers["Content-Type"].startswith("application/octet-stream")
    assert body == b"\x01\x02payload"


def test_function_exception_is_500_and_logged(host: DevHost) -> None:
    """An exception gives 500 and the invocation log line says Failed."""
    assert host.request("GET", "/api/boom")[0] == 500
    assert "function=boom trigger=httpTrigger" in host.output()
    assert "outcome=Failed detail=RuntimeError" in host.output()


def test_unknown_route_is_404(host: DevHost) -> None:
    assert host.request("GET", "/api/nothing/here")[0] == 404


def test_one_log_line_per_invocation(host: DevHost) -> None:
    """Each invocation writes exactly one summary line naming function, duration and outcome."""
    before = host.output().count("function=hello trigger=httpTrigger")
    host.request("GET", "/api/hello/once")
    lines = [x for x in host.output().splitlines() if "function=hello trigger=httpTrigger" in x]
    assert len(lines) == before + 1
    assert "duration_ms=" in lines[-1] and "outcome=Succeeded" in lines[-1]


def test_admin_functions_lists_triggers(host: DevHost) -> None:
    """/admin/functions needs the master key and lists every function with its trigger."""
    assert host.request("GET", "/admin/functions")[0] == 401
    status, body = host.request("GET", f"/admin/functions?code={host.function_key}")
    assert status == 200
    triggers = {f["name"]: f["trigger"]["type"] for f in body}
    assert triggers["on_event"] == "eventGridTrigger"
    assert triggers["yearly"] == "timerTrigger"
