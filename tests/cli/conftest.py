"""Fixtures of the `arcwave` tests (tests/cli/arcwave_support.py has the helpers)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.arcwave_support import Arcwave, FakeApp, serving


@pytest.fixture
def arcwave(tmp_path: Path) -> Arcwave:
    """`arcwave ...` in-process, with its config folder in tmp_path."""
    return Arcwave(tmp_path / "config")


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    with serving() as fake:
        yield fake
