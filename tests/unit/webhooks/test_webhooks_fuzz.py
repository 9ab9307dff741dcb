"""Whatever a signed body holds, the parsers answer with a result, PayloadError or SignatureError.

For every sample body (reference payloads and built ones) and the Flux event: random bytes,
every kind of truncation and random changes to the JSON tree, each signed with the right
secret. Nothing else may escape, and no `Push` may carry anything but a 40-hex commit.
"""

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from webhooks_support import (
    FLUX_KEY,
    SECRET,
    dumps,
    flux_event,
    sample_bodies,
    sign_flux,
)

from shared.webhooks import (
    FluxEvent,
    Ignored,
    PayloadError,
    Ping,
    Push,
    Pushes,
    SignatureError,
    parse_flux_event,
    parse_webhook,
    pushes_in,
)

SHA = re.compile(r"[0-9a-f]{40}")
SAMPLES = sample_bodies()
FLUX_BODY = dumps(flux_event("main@sha1:" + "a" * 40))

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
    | st.sampled_from(["0" * 40, "refs/heads/main", "refs/tags/v1", "A" * 40, "git.push"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def check(provider: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        result = parse_webhook(provider, headers, body, SECRET)
    except (PayloadError, SignatureError):
        return
    assert isinstance(result, Ping | Ignored | Push | Pushes)
    for push in pushes_in(result):
        assert SHA.fullmatch(push.commit), push.commit
        assert push.previous_commit is None or SHA.fullmatch(push.previous_commit)
        assert push.branch
        assert push.delivery_id


def check_flux(body: bytes) -> None:
    try:
        event = parse_flux_event(sign_flux(body), body, FLUX_KEY)
    except (PayloadError, SignatureError):
        return
    assert isinstance(event, FluxEvent)
    assert event.cluster_id
    assert event.revision is None or SHA.fullmatch(event.revision.commit)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_of(item, (*prefix, index))
    return found


def mutated(body: bytes, data: st.DataObject) -> bytes:
    tree = json.loads(body)
    path = data.draw(st.sampled_from(paths_of(tree)))
    replacement = data.draw(JSON)
    if not path:
        return dumps(replacement)
    parent = tree
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return dumps(tree)


@given(sample=st.sampled_from(SAMPLES), body=st.binary(max_size=2000))
def test_random_bytes(sample: Any, body: bytes) -> None:
    provider, _, sign = sample
    check(provider, body, sign(body))


@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_truncations(sample: Any, data: st.DataObject) -> None:
    provider, body, sign = sample
    cut = data.draw(st.integers(min_value=0, max_value=len(body)))
    truncated = body[:cut]
    check(provider, truncated, sign(truncated))
    check(provider, truncated, sign(body))


@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_changes_to_the_json_tree(sample: Any, data: st.DataObject) -> None:
    provider, body, sign = sample
    changed = mutated(body, data)
    check(provider, changed, sign(changed))


@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_byte_flips(sample: Any, data: st.DataObject) -> None:
    provider, body, sign = sample
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    value = data.draw(st.integers(min_value=0, max_value=255))
    flipped = body[:index] + bytes([value]) + body[index + 1 :]
    check(provider, flipped, sign(flipped))


@given(body=st.binary(max_size=2000))
def test_flux_random_bytes(body: bytes) -> None:
    check_flux(body)


@given(data=st.data())
def test_flux_truncations_and_changes(data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(FLUX_BODY)))
    check_flux(FLUX_BODY[:cut])
    check_flux(mutated(FLUX_BODY, data))


@given(
    provider=st.sampled_from(["github", "gitlab", "azuredevops", "bitbucket", "gitea"]),
    headers=st.dictionaries(st.text(max_size=30), st.text(max_size=80), max_size=6),
    body=st.binary(max_size=200),
)
def test_arbitrary_headers(provider: str, headers: dict[str, str], body: bytes) -> None:
    check(provider, body, headers)
