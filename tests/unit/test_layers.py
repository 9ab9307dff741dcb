"""Layer rules import-linter cannot express: `shared` never imports the Functions runtime.

(import-linter only forbids whole external distributions, and `azure` is a namespace shared by
the Functions runtime and the SDKs `shared.adapters` needs.)
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("azure.functions", "azure.durable_functions")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize(
    "path", sorted((ROOT / "shared").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_shared_never_imports_the_functions_runtime(path: Path) -> None:
    offending = {m for m in imported_modules(path) if m.startswith(RUNTIME)}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


def test_the_check_sees_runtime_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import azure.functions as func\nfrom azure import durable_functions\n")
    assert "azure.functions" in imported_modules(module)
    assert "azure.durable_functions" in imported_modules(module)
