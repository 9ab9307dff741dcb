"""Fixtures for the store contract suite: a store of each kind.

The Cosmos store is a new database on this worker's Cosmos stand-in (the session fixture
`cosmos_standin`, tests/conftest.py; tests/cosmos_standin.py starts it), so tests never see
each other's documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.store import Store
from shared.store.sqlite import SqliteStore
from tests.cosmos_standin import CosmosStandIn


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "cosmos"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind: SQLite in a temporary file, Cosmos in a new database."""
    opened: Store
    if store_kind == "sqlite":
        opened = SqliteStore(tmp_path / "store.db", clock=request.getfixturevalue("clock"))
    else:
        standin: CosmosStandIn = request.getfixturevalue("cosmos_standin")
        opened = standin.open()
    try:
        yield opened
    finally:
        opened.close()
