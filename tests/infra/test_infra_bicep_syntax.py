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


def test_infra_bicep_syntax_check_reads_past_an_extension_declaration(tmp_path: Path) -> None:
    """tree-sitter-bicep 1.1.0 predates `extension`: a one-line declaration is blanked, the rest
    of the file is still parsed (with its own line numbers), and other forms still fail."""
    resource = "resource app 'Microsoft.Graph/applications@v1.0' = {\n  uniqueName: 'arcwave'\n"
    (tmp_path / "graph.bicep").write_text(
        f"extension microsoftGraphV1\n\n{resource}  displayName: 'arcwave'\n}}\n"
    )
    (tmp_path / "aliased.bicep").write_text(
        "extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0' as graph\n"
    )
    broken = tmp_path / "broken.bicep"
    broken.write_text(f"extension microsoftGraphV1\n\n{resource}  displayName: \n}}\n")
    odd = tmp_path / "odd.bicep"
    odd.write_text("extension 'unterminated\nparam p string\n")

    result = run_check(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}:5:" in result.stdout
    assert f"{odd}:1:1:" in result.stdout
    assert "graph.bicep" not in result.stdout and "aliased.bicep" not in result.stdout
    assert "4 files, 2 with syntax errors" in result.stdout
