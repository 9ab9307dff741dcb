"""infra/checks/bicep_syntax.py: every .bicep file in infra/ parses, and a broken one is caught."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "infra" / "checks" / "bicep_syntax.py"


def infra_python() -> Path:
    """The interpreter of .venv-infra, where tree-sitter-bicep and checkov live."""
    venv = Path(os.environ.get("ARCWAVE_INFRA_VENV", REPO / ".venv-infra"))
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run `make infra-tools` to create {venv}")
    return python


def run_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(infra_python()), str(CHECK), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_infra_bicep_files_parse_without_errors() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 with syntax errors" in result.stdout


def test_infra_bicep_syntax_check_reports_file_and_line_of_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bicep"
    broken.write_text(
        "param name string\n"
        "\n"
        "resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n"
        "  name: name\n"
        "  location: \n"
        "  properties: {\n"
        "}\n"
    )
    (tmp_path / "fine.bicep").write_text("param greeting string = 'hello'\n")

    result = run_check(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}:" in result.stdout
    assert "fine.bicep" not in result.stdout.replace("1 with syntax errors", "")
    assert "2 files, 1 with syntax errors" in result.stdout


def test_infra_bicep_syntax_check_fails_when_there_is_nothing_to_check(tmp_path: Path) -> None:
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert "no .bicep file" in result.stderr


def test_infra_checks_fail_and_name_make_infra_tools_when_the_venv_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCWAVE_INFRA_VENV", str(tmp_path / "absent"))
    with pytest.raises(pytest.fail.Exception, match=r"run `make infra-tools`"):
        infra_python()
