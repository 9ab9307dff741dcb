"""Shared test settings: hypothesis profiles sized for CI's two cores, and the Cosmos stand-in
for every tier that needs a Cosmos store."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.cosmos_standin import CosmosStandIn, running_standin

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def cosmos_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CosmosStandIn]:
    """This worker's Cosmos stand-in on a free loopback port, with a fresh certificate."""
    with running_standin(tmp_path_factory.mktemp("cosmos-standin")) as standin:
        yield standin
