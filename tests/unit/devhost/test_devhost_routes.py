"""Route templates: parameters, optional and catch-all segments, constraints and precedence."""

from __future__ import annotations

import pytest

from devhost.config import ConfigError
from devhost.routes import RouteTable, RouteTemplate


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("hello/{name}", "hello/world", {"name": "world"}),
        ("hello/{name}", "HELLO/world", {"name": "world"}),
        ("hello/{name}", "hello", None),
        ("items/{id:int}", "items/42", {"id": "42"}),
        ("items/{id:int}", "items/4x", None),
        ("items/{id:int}", "items/99999999999", None),
        ("items/{id:long}", "items/99999999999", {"id": "99999999999"}),
        ("items/{id:int}/{label?}", "items/1", {"id": "1"}),
        ("items/{id:int}/{label?}", "items/1/red", {"id": "1", "label": "red"}),
        ("items/{id:int}/{label?}", "items/1/red/more", None),
        ("n/{name:alpha}", "n/abc", {"name": "abc"}),
        ("n/{name:alpha}", "n/ab1", None),
        (
            "g/{id:guid}",
            "g/3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            {"id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
        ),
        ("g/{id:guid}", "g/nope", None),
        ("b/{flag:bool}", "b/True", {"flag": "True"}),
        ("s/{code:minlength(3):maxlength(4)}", "s/abcd", {"code": "abcd"}),
        ("s/{code:minlength(3):maxlength(4)}", "s/ab", None),
        ("r/{n:range(1,5)}", "r/5", {"n": "5"}),
        ("r/{n:range(1,5)}", "r/6", None),
        ("x/{v:regex(^a+$)}", "x/aaa", {"v": "aaa"}),
        ("files/{*rest}", "files/a/b/c", {"rest": "a/b/c"}),
        ("files/{*rest}", "files", {}),
        ("", "", {}),
    ],
)
def test_template_matching(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert RouteTemplate.parse(template).match(path) == expected


def test_literal_beats_parameter_and_constraint_beats_plain() -> None:
    table = RouteTable()
    table.add("items/{name}", None, "plain")
    table.add("items/{id:int}", None, "int")
    table.add("items/special", None, "literal")
    assert table.resolve("GET", "items/special") == ("literal", {})
    assert table.resolve("GET", "items/7") == ("int", {"id": "7"})
    assert table.resolve("GET", "items/seven") == ("plain", {"name": "seven"})


def test_methods_filter_routes() -> None:
    table = RouteTable()
    table.add("things", ["post"], "create")
    table.add("things", ["GET"], "list")
    assert table.resolve("POST", "things") == ("create", {})
    assert table.resolve("GET", "things") == ("list", {})
    assert table.resolve("DELETE", "things") is None


@pytest.mark.parametrize("template", ["a/{b:nosuch}", "a/x{b}", "{*rest}/tail", "a/{b:min(x)}"])
def test_bad_templates_fail_at_load_with_a_reason(template: str) -> None:
    with pytest.raises(ConfigError) as err:
        RouteTemplate.parse(template)
    assert template.split("/")[0] in str(err.value) or "route" in str(err.value)
