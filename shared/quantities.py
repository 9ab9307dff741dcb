"""`CountOrPercent`: a cap or budget written as a count (`3`) or a share of a whole (`10%`).

Caps round up and budgets round down, so `maxConcurrency: 10%` of 5 clusters still moves one
cluster at a time, while `maxFailures: 10%` of 5 clusters tolerates none.
"""

import math
import re
from typing import Any, Self

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


class CountOrPercent:
    """An immutable count or percentage; `10%` and `3` in YAML and JSON."""

    __slots__ = ("count", "percent")

    count: int | None
    percent: float | None

    def __init__(self, *, count: int | None = None, percent: float | None = None) -> None:
        if (count is None) == (percent is None):
            raise ValueError("give exactly one of count or percent")
        object.__setattr__(self, "count", count)
        object.__setattr__(self, "percent", percent)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("CountOrPercent is immutable")

    @classmethod
    def parse(cls, value: object) -> Self:
        """Read `3`, `"3"`, `"10%"` or `"2.5%"`; raise ValueError with the accepted forms."""
        if isinstance(value, cls):
            return value
        if isinstance(value, bool):
            raise ValueError(f"expected a count like 3 or a percentage like '10%', got {value}")
        if isinstance(value, int):
            return cls(count=value)
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return cls(count=int(text))
            match = _PERCENT.fullmatch(text)
            if match:
                return cls(percent=float(match.group(1)))
        raise ValueError(f"expected a count like 3 or a percentage like '10%', got {value!r}")

    def ceil_of(self, total: int) -> int:
        """The cap this allows over `total` items, rounded up (a count is taken as is)."""
        if self.count is not None:
            return self.count
        assert self.percent is not None
        return math.ceil(round(total * self.percent / 100, 9))

    def floor_of(self, total: int) -> int:
        """The budget this allows over `total` items, rounded down (a count is taken as is)."""
        if self.count is not None:
            return self.count
        assert self.percent is not None
        return math.floor(round(total * self.percent / 100, 9))

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        return f"{self.percent:g}%"

    def __repr__(self) -> str:
        return f"CountOrPercent({self})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CountOrPercent):
            return NotImplemented
        return (self.count, self.percent) == (other.count, other.percent)

    def __hash__(self) -> int:
        return hash((self.count, self.percent))

    def to_wire(self) -> int | str:
        """`3` stays a number; `10%` stays a string."""
        return self.count if self.count is not None else str(self)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: object) -> CountOrPercent:
            try:
                return cls.parse(value)
            except ValueError as error:
                raise PydanticCustomError("count_or_percent", str(error)) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.to_wire(), when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^\d+(\.\d+)?%$"},
            ]
        }
