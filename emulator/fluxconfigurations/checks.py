"""Field checks for a fluxConfiguration body, collecting problems instead of stopping at one.

The RP answers one 400 that lists every problem in ``details``, so each check records what is
wrong in :class:`Problems` and goes on with the field's default.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.fluxconfigurations.exceptions import ENUM_MSG, TYPE_MSG, InvalidFluxConfiguration

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, target: str, message: str) -> None:
        self.items.append((target, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidFluxConfiguration.from_problems(self.items)


def enum_value(
    data: dict[str, Any], key: str, allowed: tuple[str, ...], default: str, problems: Problems
) -> str:
    """One of ``allowed`` in its canonical spelling (the RP matches enums case-insensitively)."""
    value = data.get(key)
    if value is None:
        return default
    for option in allowed:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    problems.add(
        f"properties.{key}", ENUM_MSG.format(field=key, allowed=", ".join(allowed), value=value)
    )
    return default


def bool_value(data: dict[str, Any], key: str, default: bool, problems: Problems) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(
            f"properties.{key}",
            TYPE_MSG.format(field=key, expected="a boolean", actual=type(value).__name__),
        )
        return default
    return value


def positive_int(data: dict[str, Any], key: str, target: str, problems: Problems) -> None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        problems.add(
            f"{target}.{key}",
            TYPE_MSG.format(field=key, expected="a positive integer", actual=value),
        )
