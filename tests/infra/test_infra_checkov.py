"""infra/checks/checkov_run.py: checkov passes on infra/ and fails on bad samples."""

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "infra" / "checks" / "checkov_run.py"
CONFIG = REPO / "infra" / ".checkov.yaml"


def infra_python() -> Path:
    """The interpreter of .venv-infra, where tree-sitter-bicep and checkov live."""
    venv = Path(os.environ.get("ARCWAVE_INFRA_VENV", REPO / ".venv-infra"))
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run `make infra-tools` to create {venv}")
    return python


def run_checkov(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(infra_python()), str(RUNNER), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_infra_checkov_passes_with_zero_failed_checks() -> None:
    result = run_checkov()
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"[1-9]\d* passed, 0 failed, 0 parsing errors", result.stdout), result.stdout


def test_infra_checkov_fails_on_a_failed_check_and_on_a_file_it_cannot_parse(
    tmp_path: Path,
) -> None:
    (tmp_path / "insecure.bicep").write_text(
        "resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n"
        "  name: 'stinsecure'\n"
        "  location: 'westeurope'\n"
        "  kind: 'StorageV2'\n"
        "  sku: {\n"
        "    name: 'Standard_LRS'\n"
        "  }\n"
        "  properties: {\n"
        "    allowBlobPublicAccess: true\n"
        "    minimumTlsVersion: 'TLS1_0'\n"
        "    supportsHttpsTrafficOnly: false\n"
        "  }\n"
        "}\n"
    )
    broken = "resource x 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n"
    (tmp_path / "broken.bicep").write_text(broken)

    result = run_checkov(str(tmp_path), "--config-file", str(CONFIG))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "insecure.bicep" in result.stdout
    assert "CKV_AZURE_44" in result.stdout  # minimum TLS version
    assert "CKV_AZURE_3 " in result.stdout  # HTTPS only
    assert "1 parsing errors" in result.stdout


def test_infra_every_skipped_check_names_its_reason() -> None:
    skips = [line for line in CONFIG.read_text().splitlines() if re.match(r"\s+- CKV", line)]
    assert skips, "infra/.checkov.yaml skips nothing: drop this test or the skip-check list"
    for line in skips:
        check, _, reason = line.partition("#")
        assert re.fullmatch(r"\s+- CKV2?_AZURE_\d+\s+", check), line
        assert len(reason.strip()) > 30, f"skip without a reason: {line.strip()}"


GRAPH_APP = (
    "extension microsoftGraphV1\n\n"
    "resource app 'Microsoft.Graph/applications@v1.0' = {\n"
    "  uniqueName: 'arcwave'\n"
    "  displayName: 'arcwave'\n"
    "}\n"
)


def test_infra_checkov_leaves_out_a_graph_only_extension_file_and_names_it(tmp_path: Path) -> None:
    """checkov cannot parse `extension`, and has no check for Microsoft.Graph resources."""
    (tmp_path / "graph.bicep").write_text(GRAPH_APP)
    function = (REPO / "infra" / "app" / "function.bicep").read_text()
    (tmp_path / "function.bicep").write_text(function)

    result = run_checkov(str(tmp_path), "--config-file", str(CONFIG))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tmp_path / 'graph.bicep'}: not scanned" in result.stdout
    assert re.search(r"[1-9]\d* passed, 0 failed, 0 parsing errors", result.stdout), result.stdout


def test_infra_checkov_fails_on_an_arm_resource_in_an_extension_file(tmp_path: Path) -> None:
    (tmp_path / "graph.bicep").write_text(
        GRAPH_APP + "\nresource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {\n"
        "  name: 'kv'\n}\n"
    )

    result = run_checkov(str(tmp_path), "--config-file", str(CONFIG))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Microsoft.KeyVault/vaults" in result.stdout
    assert "checkov would never check" in result.stdout
