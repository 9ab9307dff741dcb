"""Parse every .bicep file with tree-sitter-bicep and report syntax errors as file:line:column.

Usage: python infra/checks/bicep_syntax.py [PATH ...]

Each PATH is a .bicep file or a directory searched recursively; the default is the infra/
directory next to this script. Exit status: 0 when every file parses cleanly, 1 when a file
has ERROR or MISSING nodes (or no .bicep file was found), 2 when the parser is not installed.
Run it with the interpreter of .venv-infra (created by `make infra-tools`).

tree-sitter-bicep 1.1.0 predates the `extension` statement (how a file declares Microsoft Graph
resources, for one): a one-line `extension <alias>` or `extension '<reference>'` declaration,
optionally `as <name>`, is blanked before parsing (same length, so lines and columns hold) and
the rest of the file is checked as usual; any other use of the word there is still an error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent.parent
SNIPPET_CHARS = 40
EXTENSION_DECLARATION = re.compile(
    rb"^extension[ \t]+(?:[A-Za-z_]\w*|'[^'\r\n]+')"  # an alias or a registry reference
    rb"(?:[ \t]+as[ \t]+[A-Za-z_]\w*)?[ \t]*(?://[^\r\n]*)?$",
    re.MULTILINE,
)


def without_extension_declarations(source: bytes) -> bytes:
    """`source` with each well-formed one-line `extension` declaration replaced by spaces."""
    return EXTENSION_DECLARATION.sub(lambda match: b" " * len(match.group(0)), source)


def bicep_files(paths: list[Path]) -> list[Path]:
    """Every .bicep file named or found under the given paths, sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*.bicep") if p.is_file())
        elif path.suffix == ".bicep" and path.is_file():
            found.add(path)
    return sorted(found)


def problems(source: bytes, tree_root: Any) -> Iterator[tuple[int, int, str]]:
    """Yield (line, column, description) for each ERROR or MISSING node, both 1-based."""
    stack = [tree_root]
    while stack:
        node = stack.pop()
        row, col = node.start_point
        if node.is_missing:
            yield row + 1, col + 1, f"MISSING {node.type}"
        elif node.is_error:
            text = source[node.start_byte : node.end_byte]
            snippet = text.decode("utf-8", "replace").splitlines()[0] if text.strip() else ""
            yield row + 1, col + 1, f"ERROR near {snippet[:SNIPPET_CHARS]!r}"
        stack.extend(reversed(node.children))


def main(argv: list[str]) -> int:
    try:
        import tree_sitter
        import tree_sitter_bicep
    except ImportError as error:
        print(
            f"bicep_syntax: {error}; run `make infra-tools` and use .venv-infra/bin/python",
            file=sys.stderr,
        )
        return 2

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
    targets = [Path(arg) for arg in argv] or [INFRA_DIR]
    files = bicep_files(targets)
    if not files:
        print(f"bicep_syntax: no .bicep file under {', '.join(map(str, targets))}", file=sys.stderr)
        return 1

    failed = 0
    for path in files:
        source = without_extension_declarations(path.read_bytes())
        tree = parser.parse(source)
        found = sorted(set(problems(source, tree.root_node)))
        if not found and tree.root_node.has_error:
            found = [(1, 1, "ERROR somewhere in the file")]
        for line, column, description in found:
            print(f"{path}:{line}:{column}: {description}")
        failed += bool(found)

    print(f"bicep_syntax: {len(files)} files, {failed} with syntax errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
