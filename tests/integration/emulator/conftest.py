"""Fixtures: an emulator per test over TLS, and the real azure-mgmt clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient,
)
from azure.mgmt.resourcegraph import ResourceGraphClient
from emulator_support import SUBSCRIPTION, fleet_scenario

from emulator.testing import Emulator


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-tls")


@pytest.fixture
def emulator(tls_dir: Path) -> Iterator[Emulator]:
    with Emulator(fleet_scenario(), tls_dir=tls_dir) as running:
        yield running


@pytest.fixture
def flux_client(emulator: Emulator) -> Iterator[SourceControlConfigurationClient]:
    with SourceControlConfigurationClient(
        emulator.credential(), SUBSCRIPTION, **emulator.client_kwargs()
    ) as client:
        yield client


@pytest.fixture
def graph_client(emulator: Emulator) -> Iterator[ResourceGraphClient]:
    with ResourceGraphClient(
        emulator.credential(), base_url=emulator.endpoint, connection_verify=str(emulator.cert_path)
    ) as client:
        yield client


@pytest.fixture
def flux_client_2025(
    emulator: Emulator,
) -> Iterator[KubernetesConfigurationFluxConfigurationsMgmtClient]:
    """The split fluxConfigurations SDK (api-version 2025-04-01, no property flattening)."""
    with KubernetesConfigurationFluxConfigurationsMgmtClient(
        emulator.credential(), SUBSCRIPTION, **emulator.client_kwargs()
    ) as client:
        yield client
