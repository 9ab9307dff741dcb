"""Reading hostile documents: YAML aliases, deep nesting and odd values are problems with a
place and a reason, refused before they cost anything, never another exception."""

import json
import time

import pytest

from shared.documents import MAX_DEPTH, json_depth, nesting, parse_document, parse_json
from shared.problems import InvalidInput
from shared.trackspec import load_track_spec


def alias_bomb(levels: int = 7, fan: int = 10) -> str:
    """The "billion laughs": each level a list of `fan` aliases of the one before."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * fan) + "]"]
    for level in range(1, levels):
        items = ", ".join([f"*a{level - 1}"] * fan)
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + "\nname: baseline\n"


def refused(text: str) -> dict[str, object]:
    with pytest.raises(InvalidInput) as caught:
        parse_document(text, "track spec")
    [problem] = caught.value.to_wire()["errors"]
    return dict(problem)


def test_an_alias_bomb_is_refused_at_its_first_anchor_before_anything_is_built() -> None:
    text = alias_bomb()
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as caught:
        load_track_spec(text)
    elapsed = time.perf_counter() - started
    wire = caught.value.to_wire()
    assert wire["errors"] == [
        {
            "loc": "line 1, column 5",
            "type": "yaml_alias",
            "msg": "YAML anchors are not accepted (found '&a0'): write the value out where it "
            "is used",
            "input": None,
        }
    ]
    assert len(json.dumps(wire)) < 1024
    assert elapsed < 5.0  # generous: it is refused in milliseconds, expanded it took seconds


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("name: &n baseline\nother: *n\n", "&n"),
        ("waves:\n  - *w\n", "*w"),
        ("base: &b {a: 1}\nmerged: {<<: *b}\n", "&b"),
    ],
)
def test_every_anchor_or_alias_is_refused_with_its_place(text: str, found: str) -> None:
    problem = refused(text)
    assert problem["type"] == "yaml_alias"
    assert str(problem["loc"]).startswith("line ")
    assert f"'{found}'" in str(problem["msg"])


def test_yaml_nested_past_the_limit_is_refused_naming_it() -> None:
    assert refused("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))["type"] == "too_deep"
    deep_block = "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * 70 + "x\n"
    problem = refused(deep_block)
    assert problem["type"] == "too_deep"
    assert f"{MAX_DEPTH} levels" in str(problem["msg"])
    # Far deeper than Python's recursion limit: still one problem, found at level 65.
    assert refused("[" * 100_000)["type"] == "too_deep"


def test_yaml_nested_up_to_the_limit_is_read() -> None:
    text = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    value = parse_document(text, "x")
    assert nesting(value) == MAX_DEPTH


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a: " + "1" * 5000, "value"),  # longer than Python converts to an int
        ("when: 2026-02-30", "value"),  # a date that does not exist
        ("? [1, 2]\n: x", "syntax"),  # a list as a key
        ("? {a: 1}\n: x", "syntax"),
        ("a: 1\na: 2", "syntax"),  # duplicate keys, as before
    ],
)
def test_values_the_reader_refuses_are_problems(text: str, kind: str) -> None:
    assert refused(text)["type"] == kind


def test_json_depth_is_counted_without_parsing() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[ not brackets ]]]]"}]}') == 3
    assert json_depth(b'["\\"]["]') == 1  # an escaped quote does not end the string
    assert json_depth(b"[" * 1_000_000) == MAX_DEPTH + 1  # stops counting past the limit


def test_json_nested_past_the_limit_is_refused_before_parsing() -> None:
    deep = b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)
    with pytest.raises(InvalidInput) as caught:
        parse_json(deep, "rollout request")
    assert caught.value.problems[0].type == "too_deep"
    with pytest.raises(InvalidInput, match="nest deeper than 64"):
        parse_json(b"[" * 200_000 + b"]" * 200_000, "rollout request")
    ok = b'{"a":' * MAX_DEPTH + b"1" + b"}" * MAX_DEPTH
    assert nesting(parse_json(ok, "x")) == MAX_DEPTH


def test_nesting_of_values_is_counted_without_recursion() -> None:
    value: object = 1
    for _ in range(50_000):
        value = [value]
    assert nesting(value) == MAX_DEPTH + 1
    assert nesting({"a": [1, {"b": 2}]}) == 3
    assert nesting("text") == 0


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"name": "t", "source": {"url": "\\ud800"}}', "source.url"),
        ('waves:\n- name: "a\\udc00b"\n', "waves[0].name"),
        ('{"labels": {"\\ud800": "x"}}', "labels"),
    ],
)
def test_a_lone_surrogate_is_refused_with_where_it_is(text: str, where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_document(text, "track spec")
    problem = caught.value.problems[0]
    assert (problem.loc, problem.type) == (where, "unicode")
    str(caught.value).encode("utf-8")  # the refusal itself is valid UTF-8, so it can be sent


def test_a_lone_surrogate_in_json_is_refused_and_a_pair_is_read() -> None:
    with pytest.raises(InvalidInput, match="lone surrogate"):
        parse_json(b'{"a": ["\\udc00"]}', "rollout request")
    assert parse_json(b'{"a": "\\ud83d\\ude00"}', "x") == {"a": "\U0001f600"}


def test_a_document_opening_with_a_bracket_has_its_nesting_counted_before_reading() -> None:
    """JSON and YAML flow style: refused by counting, before the YAML reader scans it."""
    for text in ("[" * 40_000 + "]" * 40_000, "{a: " * 65 + "1" + "}" * 65):
        with pytest.raises(InvalidInput) as caught:
            parse_document(text, "track spec")
        assert caught.value.problems[0].type == "too_deep"
    at_the_limit = "{a: " * MAX_DEPTH + "1" + "}" * MAX_DEPTH
    assert nesting(parse_document(at_the_limit, "track spec")) == MAX_DEPTH
    assert parse_document('  ["[[[[[[[[ in a string"]', "x") == ["[[[[[[[[ in a string"]
