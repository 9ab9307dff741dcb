"""Hostile input against every public endpoint: random, malformed and truncated bodies (some
with valid signatures) never get a 500 and never start a rollout."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fuzz_support import assert_host_alive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rollout_support import GOOD, Stack, github_push, running_stack, signed_github

pytestmark = pytest.mark.e2e

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
)
VALID_PUSH = json.dumps(github_push(GOOD)).encode()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("fuzz")) as running:
        running.register()
        yield running
        assert running.records.rollouts.list() == [], "hostile input started a rollout"
        assert running.writes() == []
        assert_host_alive(running)


def status(
    stack: Stack, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> int:
    code, _ = stack.host.request(method, path, raw=body, headers=headers or {})
    return code


def keyed(stack: Stack) -> dict[str, str]:
    return {"x-functions-key": stack.host.function_key, "Content-Type": "application/json"}


@FUZZ
@given(
    provider=st.sampled_from(["github", "gitlab", "azuredevops", "bitbucket", "gitea", "x"]),
    body=bodies,
)
def test_webhooks_with_any_body(stack: Stack, provider: str, body: bytes) -> None:
    assert status(stack, "POST", f"/api/hooks/{provider}", body) < 500


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(VALID_PUSH) - 1))
def test_truncated_pushes_with_valid_signatures(stack: Stack, cut: int) -> None:
    body = VALID_PUSH[:cut]
    code = status(stack, "POST", "/api/hooks/github", body, signed_github(body, f"cut-{cut}"))
    assert code in (200, 400)


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
"""What an HTTP client can send as a header value at all: printable ASCII."""


@FUZZ
@given(body=bodies, signature=HEADER_TEXT)
def test_flux_events_with_any_body(stack: Stack, body: bytes, signature: str) -> None:
    headers = {"X-Signature": signature}
    assert status(stack, "POST", "/api/flux/events", body, headers) < 500


@FUZZ
@given(
    route=st.sampled_from(
        [
            ("PUT", "tracks/baseline"),
            ("PUT", "tracks/new-one"),
            ("POST", "tracks/baseline/rollouts"),
            ("POST", "tracks/baseline/plan"),
            ("POST", "rollouts/none/approve"),
            ("POST", "rollouts/none/abort"),
        ]
    ),
    body=bodies,
)
def test_operator_api_with_any_body(stack: Stack, route: tuple[str, str], body: bytes) -> None:
    method, path = route
    code = status(stack, method, f"/api/{path}", body, keyed(stack))
    assert code < 500
    if method == "PUT" and code in (200, 201):
        pytest.fail(f"a random body was accepted as a track spec: {body!r}")


def nested(depth: int, style: str) -> bytes:
    """A body nesting `depth` levels: JSON lists, YAML flow or block lists, or mappings."""
    if style == "json":
        return b"[" * depth + b"]" * depth
    if style == "block":
        return b"waves:\n" + b"- " * depth + b"x\n"
    return b"".join(b"  " * i + f"k{i}:\n".encode() for i in range(depth)) + b"  " * depth + b"v"


@FUZZ
@given(
    depth=st.integers(min_value=0, max_value=3000),
    style=st.sampled_from(["json", "block", "mapping"]),
    route=st.sampled_from(["tracks/new-one", "tracks/baseline/rollouts", "rollouts/none/abort"]),
)
def test_deeply_nested_bodies(stack: Stack, depth: int, style: str, route: str) -> None:
    method = "PUT" if route.startswith("tracks/new") else "POST"
    code, body = stack.host.request(
        method, f"/api/{route}", raw=nested(depth, style), headers=keyed(stack)
    )
    assert code in (400, 404, 409, 413), (code, body)
    assert len(json.dumps(body)) < 16 * 1024


@FUZZ
@given(
    anchors=st.integers(min_value=1, max_value=8),
    fan=st.integers(min_value=1, max_value=12),
)
def test_yaml_aliases_anywhere(stack: Stack, anchors: int, fan: int) -> None:
    lines = ["a0: &a0 [x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, anchors)
    ]
    text = "\n".join([*lines, "name: new-one"]).encode()
    code, body = stack.host.request("PUT", "/api/tracks/new-one", raw=text, headers=keyed(stack))
    assert code == 400 and body["errors"][0]["type"] == "yaml_alias"
    assert len(json.dumps(body)) < 16 * 1024


@FUZZ
@given(
    segment=st.text(
        alphabet=st.characters(codec="ascii", exclude_characters="/?#%"), min_size=1, max_size=40
    )
)
def test_operator_api_with_any_path_value(stack: Stack, segment: str) -> None:
    from urllib.parse import quote

    value = quote(segment, safe="")
    for method, path in [
        ("GET", f"tracks/{value}"),
        ("GET", f"rollouts/{value}"),
        ("GET", f"rollouts/{value}/timeline"),
        ("GET", f"rollouts?state={value}&track={value}"),
        ("GET", f"fleet?track={value}"),
    ]:
        assert status(stack, method, f"/api/{path}", b"", keyed(stack)) < 500, path


def test_the_stack_is_untouched(stack: Stack) -> None:
    answer: Any = stack.host.request("GET", "/api/tracks", headers=keyed(stack))[1]
    assert [t["name"] for t in answer["tracks"]] == ["baseline"]
