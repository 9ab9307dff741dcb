"""Fixtures of the orchestrator tier: a fresh world and engine per test, with a small fleet."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.orchestrators.world import Harness, run_world

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """Two canaries and six broad clusters over two sites, one track (`World.register`)."""
    for harness in run_world(tmp_path):
        harness.fleet.add("canary-1", ring="canary", site="site-1")
        harness.fleet.add("canary-2", ring="canary", site="site-2")
        for i in range(1, 7):
            harness.fleet.add(f"store-{i}", ring="broad", site=f"site-{1 + i % 2}")
        harness.world.register()
        yield harness
