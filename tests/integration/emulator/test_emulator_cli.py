"""``python -m emulator``: prints the ready line, serves TLS, keeps the fleet with --state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import yaml
from emulator_support import SUBSCRIPTION, fleet_scenario

from emulator.process import EmulatorProcess, EmulatorStartError

pytestmark = pytest.mark.integration
CONFIG = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/Microsoft.Kubernetes"
    "/connectedClusters/store-001/providers/Microsoft.KubernetesConfiguration"
    "/fluxConfigurations/baseline?api-version=2025-04-01"
)


@contextmanager
def running(scenario: Path, tls_dir: Path, state: Path) -> Iterator[str]:
    emulator = EmulatorProcess(scenario, tls_dir=tls_dir, state=state)
    with emulator:
        assert emulator.endpoint.startswith("https://127.0.0.1:")
        assert "certificate: " in emulator.output()
        yield emulator.endpoint
    assert emulator.returncode == 0


def test_serves_and_persists_across_restart(tmp_path: Path) -> None:
    scenario = tmp_path / "fleet.yaml"
    scenario.write_text(yaml.safe_dump(fleet_scenario()))
    state, tls_dir = tmp_path / "state.json", tmp_path / "tls"
    cert = str(tls_dir / "cert.pem")
    body = {
        "properties": {
            "gitRepository": {"url": "https://x/y", "repositoryRef": {"branch": "main"}},
        }
    }
    with running(scenario, tls_dir, state) as endpoint:
        assert requests.get(endpoint + "/_emulator/health", verify=cert, timeout=10).ok
        created = requests.put(
            endpoint + CONFIG,
            json=body,
            headers={"Authorization": "Bearer t"},
            verify=cert,
            timeout=10,
        )
        assert created.status_code == 201
    assert state.exists()
    with running(scenario, tls_dir, state) as endpoint:
        again = requests.get(
            endpoint + CONFIG, headers={"Authorization": "Bearer t"}, verify=cert, timeout=10
        )
        assert again.status_code == 200
        writes = requests.get(endpoint + "/_emulator/writes", verify=cert, timeout=10).json()
        assert [w["status"] for w in writes] == [201]


def test_a_child_that_cannot_start_is_reported_with_its_output(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("clusters: [{name: 1}]\nnotAField: true\n")
    emulator = EmulatorProcess(scenario, log=tmp_path / "emulator.log")
    with pytest.raises(EmulatorStartError, match="emulator exited with code 2") as raised:
        emulator.start()
    assert "notAField" in str(raised.value)
    assert not emulator.alive
