"""Zip the function app for deployment, leaving out what .funcignore names.

Usage: python infra/pipelines/package_app.py OUTPUT.zip [--root DIR]

The root (default: the repository root) must hold host.json. Patterns in its .funcignore follow
.gitignore rules: `name` matches at any depth, `dir/` matches directories only, a pattern with an
inner `/` is anchored to the root, `*`, `?` and `[...]` are wildcards, `**` spans directories and
`!pattern` re-includes. Virtual environments (directories holding pyvenv.cfg) are never packed.
Dependencies built with `pip install --target .python_packages/lib/site-packages` are packed
unless .funcignore names them.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rule:
    """One .funcignore line, compiled."""

    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


def _glob_to_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append(pattern[i : end + 1])
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def parse_rules(text: str) -> list[Rule]:
    """Compile the lines of a .funcignore file; blank lines and # comments are ignored."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        directory_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        body = _glob_to_regex(line.lstrip("/"))
        prefix = "" if anchored else "(?:.*/)?"
        rules.append(Rule(re.compile(f"^{prefix}{body}$"), negated, directory_only))
    return rules


def ignored(relative: str, is_dir: bool, rules: list[Rule]) -> bool:
    """Whether a root-relative POSIX path is excluded; the last matching rule wins."""
    verdict = False
    for rule in rules:
        if rule.directory_only and not is_dir:
            continue
        if rule.regex.match(relative):
            verdict = not rule.negated
    return verdict


def package_files(root: Path, rules: list[Rule]) -> list[Path]:
    """Files under root that belong in the package, sorted."""
    kept: list[Path] = []
    pending = [root]
    while pending:
        directory = pending.pop()
        for entry in sorted(directory.iterdir()):
            relative = entry.relative_to(root).as_posix()
            if entry.is_dir() and not entry.is_symlink():
                if (entry / "pyvenv.cfg").exists() or ignored(relative, True, rules):
                    continue
                pending.append(entry)
            elif entry.is_file() and not ignored(relative, False, rules):
                kept.append(entry)
    return sorted(kept)


def build(root: Path, output: Path) -> list[str]:
    """Write the zip and return the packed names."""
    if not (root / "host.json").is_file():
        raise SystemExit(f"package_app: {root} has no host.json; pass the function app root")
    funcignore = root / ".funcignore"
    rules = parse_rules(funcignore.read_text()) if funcignore.exists() else []
    output = output.resolve()
    names = []
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in package_files(root, rules):
            if path.resolve() == output:
                continue
            name = path.relative_to(root).as_posix()
            archive.write(path, name)
            names.append(name)
    return names


def main(argv: list[str]) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("output", type=Path)
    options.add_argument("--root", type=Path, default=REPO_ROOT)
    args = options.parse_args(argv)
    names = build(args.root.resolve(), args.output)
    print(f"package_app: {len(names)} files in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
