"""Ids Cosmos accepts: readable, reversible, hashed only when too long."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.store import cluster_key, decode_id, encode_id
from shared.store.containers import MAX_ID_BYTES

ARM_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-edge-01"
    "/providers/Microsoft.Kubernetes/connectedClusters/edge-017"
)
FORBIDDEN = set("/\\?#")


def test_an_arm_id_stays_readable() -> None:
    assert encode_id(ARM_ID) == (
        "~2Fsubscriptions~2F00000000-0000-0000-0000-000000000001~2FresourceGroups~2Frg-edge-01"
        "~2Fproviders~2FMicrosoft.Kubernetes~2FconnectedClusters~2Fedge-017"
    )


def test_plain_ids_are_unchanged() -> None:
    assert encode_id("rollout:baseline:3f2a1c9") == "rollout:baseline:3f2a1c9"


def test_each_forbidden_character_and_the_escape_itself_are_escaped() -> None:
    assert encode_id("a/b\\c?d#e~f") == "a~2Fb~5Cc~3Fd~23e~7Ef"


@given(st.text(min_size=1, max_size=300))
def test_encoding_round_trips_and_never_holds_a_forbidden_character(text: str) -> None:
    encoded = encode_id(text)
    assert not FORBIDDEN & set(encoded)
    assert decode_id(encoded) == text


@given(st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50))
def test_different_texts_never_share_an_id(a: str, b: str) -> None:
    if a != b:
        assert encode_id(a) != encode_id(b)


def test_a_too_long_id_is_hashed_and_cannot_be_decoded() -> None:
    text = "/" * 400  # 1,200 bytes once escaped
    encoded = encode_id(text)
    assert encoded.startswith("~h") and len(encoded) == 66
    assert encode_id(text) == encoded
    assert len(encode_id("/" * 341).encode()) == 1023 <= MAX_ID_BYTES
    with pytest.raises(ValueError, match="hash"):
        decode_id(encoded)


def test_an_empty_id_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        encode_id("")


def test_a_cluster_key_ignores_the_case_of_the_arm_id() -> None:
    assert cluster_key(ARM_ID) == cluster_key(ARM_ID.upper()) == encode_id(ARM_ID.lower())
