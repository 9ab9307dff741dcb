"""devhost stands in for the Functions host: it never imports the arcwave app packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
APP_PACKAGES = ("shared", "triggers", "orchestrators", "activities", "cli", "function_app")


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path", sorted((ROOT / "devhost").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_devhost_never_imports_the_app(path: Path) -> None:
    assert not top_level_imports(path) & set(APP_PACKAGES)
