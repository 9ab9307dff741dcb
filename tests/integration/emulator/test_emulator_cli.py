"""``python -m emulator``: prints the ready line, serves TLS, keeps the fleet with --state."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import yaml
from emulator_support import SUBSCRIPTION, fleet_scenario

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
CONFIG = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/Microsoft.Kubernetes"
    "/connectedClusters/store-001/providers/Microsoft.KubernetesConfiguration"
    "/fluxConfigurations/baseline?api-version=2025-04-01"
)


@contextmanager
def running(scenario: Path, tls_dir: Path, state: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--scenario",
            str(scenario),
            "--port",
            "0",
            "--tls-dir",
            str(tls_dir),
            "--state",
            str(state),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = ""
        for line in process.stdout:
            if line.startswith("emulator ready on "):
                endpoint = line.split()[-1]
                break
        assert endpoint.startswith("https://127.0.0.1:")
        yield endpoint
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0
        if process.stdout is not None:
            process.stdout.close()


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
