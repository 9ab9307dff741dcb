"""What a 400 shows of invalid input stays small whatever the input: a bounded number of
problems, each cut, and echoed inputs that are never expanded."""

import json

import pytest

from shared.problems import MAX_INPUT_CHARS, MAX_SHOWN, InvalidInput, Problem, echo
from shared.trackspec import validate_track_spec


def minimal(**changes: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": "baseline",
        "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
        "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
        "fleet": {"subscriptions": ["00000000-0000-0000-0000-000000000001"]},
        "waves": [{"name": "all"}],
    }
    spec.update(changes)
    return spec


def test_many_problems_show_the_first_ones_and_count_the_rest() -> None:
    error = InvalidInput("thing", [Problem(f"items[{i}]", "bad", "wrong") for i in range(500)])
    wire = error.to_wire()
    assert len(wire["errors"]) == MAX_SHOWN + 1
    assert wire["errors"][-1] == {
        "loc": "",
        "type": "more",
        "msg": f"and {500 - MAX_SHOWN} more problems",
        "input": None,
    }
    assert len(error.problems) == 500  # all kept for callers that re-wrap them
    assert str(error).count("\n") == MAX_SHOWN + 1
    assert "(500 problems)" in str(error)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1O%", "1O%"),
        (7, 7),
        (2.5, 2.5),
        (True, True),
        (None, None),
        (float("inf"), "inf"),
        (10**400, "<integer of 1329 bits>"),
    ],
)
def test_scalars_are_echoed_as_they_are(value: object, shown: object) -> None:
    assert echo(value) == shown


def test_long_strings_and_containers_are_echoed_short() -> None:
    assert len(echo("x" * 100_000)) == MAX_INPUT_CHARS
    nested: object = "leaf"
    for _ in range(10_000):
        nested = {"k": [nested, nested]}
    shown = echo(nested)
    assert isinstance(shown, str) and len(shown) <= MAX_INPUT_CHARS
    assert echo(list(range(1_000_000))).startswith("[0, 1, 2, 3, ...")


def test_a_spec_with_many_bad_values_answers_a_few_kib() -> None:
    waves = [{"name": f"w{i}", "maxFailures": "x" * 5000, "soak": ["y"] * 5000} for i in range(300)]
    with pytest.raises(InvalidInput) as caught:
        validate_track_spec(minimal(waves=waves, **{"k" * 10_000: {"deep": list(range(10**5))}}))
    body = json.dumps(caught.value.to_wire())
    assert len(body) < 16 * 1024
    assert caught.value.to_wire()["errors"][-1]["type"] == "more"
    assert all(len(str(p["loc"])) <= 200 for p in caught.value.to_wire()["errors"])


def test_the_shown_problems_fit_a_byte_budget_whatever_their_characters() -> None:
    wide = "\U0001f600" * 1000  # each one 12 bytes of JSON escapes
    error = InvalidInput(wide, [Problem(wide, wide, wide, wide) for _ in range(100)])
    body = json.dumps(error.to_wire())
    assert len(body) < 16 * 1024
    assert error.to_wire()["errors"][-1]["type"] == "more"
