"""infra/pipelines/package_app.py: the deployment zip honours .funcignore."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGER = REPO / "infra" / "pipelines" / "package_app.py"


def package(root: Path, output: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, str(PACKAGER), str(output), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(output) as archive:
        return set(archive.namelist())


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_infra_package_of_the_repository_holds_the_app_and_nothing_ignored(tmp_path: Path) -> None:
    names = package(REPO, tmp_path / "arcwave.zip")

    for needed in ("function_app.py", "host.json", "requirements.txt", "triggers/health.py"):
        assert needed in names
    assert any(name.startswith("shared/") for name in names)
    for ignored in ("tests/", "infra/", "docs/", "cli/", "devhost/", "emulator/", ".venv", ".git"):
        assert not any(name.startswith(ignored) for name in names), ignored
    assert "local.settings.sample.json" not in names
    assert "pyproject.toml" not in names


def test_infra_package_follows_gitignore_rules(tmp_path: Path) -> None:
    root = tmp_path / "app"
    touch(
        root,
        "host.json",
        "function_app.py",
        "docs/readme.md",
        "pkg/docs/kept.md",
        "pkg/__pycache__/m.cpython-311.pyc",
        "pkg/module.py",
        "notes.log",
        "keep.log",
        ".python_packages/lib/site-packages/yaml/__init__.py",
        ".venv-tools/pyvenv.cfg",
        ".venv-tools/lib/site.py",
    )
    (root / ".funcignore").write_text("# comment\n/docs/\n__pycache__/\n*.log\n!keep.log\n")

    names = package(root, tmp_path / "out.zip")

    assert names == {
        ".funcignore",
        "host.json",
        "function_app.py",
        "pkg/docs/kept.md",
        "pkg/module.py",
        "keep.log",
        ".python_packages/lib/site-packages/yaml/__init__.py",
    }


def test_infra_package_refuses_a_root_without_host_json(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(PACKAGER), str(tmp_path / "out.zip"), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "has no host.json" in result.stderr
