"""Fixtures: the real fleet gateway against an emulator over TLS."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet_support import scenario, settings_for

from emulator.testing import Emulator
from shared.adapters.fleet import FleetGateway


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(scenario(), tls_dir=tmp_path_factory.mktemp("tls")) as running:
        yield running


@pytest.fixture
def make_emulator(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(**overrides: Any) -> Emulator:
        running = Emulator(scenario(**overrides), tls_dir=tmp_path / f"tls{len(started)}")
        running.start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture
def gateway_for(tmp_path: Path) -> Callable[..., FleetGateway]:
    def make(emulator: Emulator, **values: Any) -> FleetGateway:
        return FleetGateway(settings_for(emulator, tmp_path, **values))

    return make
