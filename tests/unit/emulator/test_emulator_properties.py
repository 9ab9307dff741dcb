"""Properties that hold for any input: merge patches, query filters, token buckets."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from emulator.arm import merge_patch
from emulator.exceptions import TooManyRequests
from emulator.resourcegraph.models import TABLE_COLUMNS
from emulator.resourcegraph.query import compile_query
from emulator.scenario import ThrottleSpec
from emulator.throttle import ArmThrottle

json_leaf = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4)
json_value = st.recursive(
    json_leaf,
    lambda children: st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10,
)
patches = st.dictionaries(st.text(max_size=3), json_value, max_size=4)
words = st.text(alphabet="abAB-", min_size=0, max_size=3)


@given(st.dictionaries(st.text(max_size=3), json_value, max_size=4), patches)
def test_merge_patch_is_idempotent(target: dict[str, Any], patch: dict[str, Any]) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@given(st.dictionaries(st.text(max_size=3), json_value, max_size=4), patches)
def test_merge_patch_leaves_its_inputs_alone(target: dict[str, Any], patch: dict[str, Any]) -> None:
    before = repr(target), repr(patch)
    merge_patch(target, patch)
    assert (repr(target), repr(patch)) == before


@given(st.lists(words, min_size=1, max_size=12), words, st.lists(words, min_size=1, max_size=3))
def test_tag_filters_match_python(rings: list[str], wanted: str, options: list[str]) -> None:
    rows = [{"id": str(i), "name": str(i), "tags": {"ring": ring}} for i, ring in enumerate(rings)]
    quoted = ", ".join(f"'{o}'" for o in options)

    def ids(query: str) -> list[str]:
        return [r["id"] for r in compile_query(query, TABLE_COLUMNS).run(rows)]

    assert ids(f"resources | where tags['ring'] == '{wanted}'") == [
        r["id"] for r in rows if r["tags"]["ring"] == wanted
    ]
    assert ids(f"resources | where tags['ring'] =~ '{wanted}'") == [
        r["id"] for r in rows if r["tags"]["ring"].lower() == wanted.lower()
    ]
    assert ids(f"resources | where tags['ring'] in~ ({quoted})") == [
        r["id"] for r in rows if r["tags"]["ring"].lower() in {o.lower() for o in options}
    ]
    assert ids(f"resources | where tags['ring'] !in ({quoted})") == [
        r["id"] for r in rows if r["tags"]["ring"] not in options
    ]


@given(st.lists(st.floats(0, 2), max_size=40))
def test_bucket_never_exceeds_its_size(gaps: list[float]) -> None:
    clock = [0.0]
    spec = ThrottleSpec.model_validate({"writes": {"bucket": 5, "refillPerSecond": 2}})
    throttle = ArmThrottle(spec, lambda: clock[0])
    for gap in gaps:
        clock[0] += gap
        try:
            headers = throttle.admit("sub", "PUT")
        except TooManyRequests as error:
            headers = error.headers
        assert 0 <= int(headers["x-ms-ratelimit-remaining-subscription-writes"]) <= 4
