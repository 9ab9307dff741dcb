import pytest
from pydantic import ValidationError

from shared.quantities import CountOrPercent
from shared.wire import WireModel


@pytest.mark.parametrize(
    ("value", "count", "percent"),
    [(3, 3, None), ("3", 3, None), ("10%", None, 10.0), ("2.5%", None, 2.5), (" 5 % ", None, 5)],
)
def test_parses_counts_and_percentages(value: object, count: int, percent: float) -> None:
    parsed = CountOrPercent.parse(value)
    assert (parsed.count, parsed.percent) == (count, percent)


@pytest.mark.parametrize("value", ["1O%", "ten", "-1", "%", 1.5, True, None, [], "10%%"])
def test_refuses_other_values(value: object) -> None:
    with pytest.raises(ValueError, match="expected a count like 3 or a percentage like '10%'"):
        CountOrPercent.parse(value)


def test_caps_round_up_and_budgets_round_down() -> None:
    ten = CountOrPercent.parse("10%")
    assert ten.ceil_of(42) == 5
    assert ten.floor_of(42) == 4
    assert ten.ceil_of(5) == 1
    assert ten.floor_of(5) == 0
    assert CountOrPercent.parse("10%").ceil_of(10) == 1  # no float drift above an exact share
    assert CountOrPercent.parse("7%").floor_of(100) == 7
    assert CountOrPercent.parse(4).ceil_of(100) == 4
    assert CountOrPercent.parse(4).floor_of(2) == 4


def test_round_trips_through_json_in_the_written_form() -> None:
    class Policy(WireModel):
        cap: CountOrPercent

    assert Policy(cap="10%").to_wire() == {"cap": "10%"}
    assert Policy(cap=3).to_wire() == {"cap": 3}
    assert Policy.model_validate(Policy(cap="2.5%").to_wire()).cap == CountOrPercent(percent=2.5)
    with pytest.raises(ValidationError) as error:
        Policy(cap="lots")
    assert error.value.errors()[0]["type"] == "count_or_percent"


def test_is_immutable_and_hashable() -> None:
    value = CountOrPercent(count=2)
    with pytest.raises(AttributeError):
        value.count = 3  # type: ignore[misc]
    assert {value, CountOrPercent(count=2)} == {value}
    with pytest.raises(ValueError, match="exactly one"):
        CountOrPercent(count=1, percent=1.0)
