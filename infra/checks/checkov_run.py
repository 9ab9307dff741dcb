"""Run checkov's bicep framework over infra/ and fail on any failed check or unparsed file.

Usage: python infra/checks/checkov_run.py [DIRECTORY] [--config-file FILE]

DIRECTORY defaults to the infra/ directory next to this script and FILE to infra/.checkov.yaml,
which lists every skipped check with its reason. checkov is run offline (--skip-download) from
the same environment as this interpreter, i.e. .venv-infra (created by `make infra-tools`).
Exit status: 0 when checkov parsed every file and no check failed, 1 otherwise, 2 when checkov
is not installed or produced no report.

checkov's Bicep parser (pycep) cannot read the `extension` statement, which a file needs to
declare Microsoft Graph resources (Microsoft.Graph/...), and checkov has no check for those.
Such a file is left out of the scan (--skip-path) and named in the output, provided it declares
only Graph resources: an ARM resource in it would escape every check, so that fails the run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = INFRA_DIR / ".checkov.yaml"
TIMEOUT_SECONDS = 600
EXTENSION = re.compile(r"^extension\s", re.MULTILINE)
RESOURCE_TYPE = re.compile(r"^\s*resource\s+\w+\s+'([^'@]+)@", re.MULTILINE)
GRAPH_TYPE_PREFIX = "Microsoft.Graph/"


def extension_files(directory: Path) -> dict[Path, list[str]]:
    """Each .bicep file under `directory` that declares an extension -> its ARM resource types
    (which checkov would then never see). A nested resource's short type ('config@...') belongs
    to its parent's provider, so only full types (with a '/') are judged."""
    found = {}
    for path in sorted(directory.rglob("*.bicep")):
        text = path.read_text()
        if EXTENSION.search(text):
            types = RESOURCE_TYPE.findall(text)
            found[path] = [t for t in types if "/" in t and not t.startswith(GRAPH_TYPE_PREFIX)]
    return found


def checkov_command(
    directory: Path, config_file: Path, skip_paths: list[Path] | None = None
) -> list[str]:
    """The checkov command line: bicep only, offline, JSON on stdout, without `skip_paths`."""
    checkov = Path(sys.executable).with_name("checkov")
    command = [
        str(checkov),
        "--directory",
        str(directory),
        "--config-file",
        str(config_file),
        "--framework",
        "bicep",
        "--skip-download",
        "--output",
        "json",
    ]
    for path in skip_paths or []:
        command += ["--skip-path", re.escape(str(path)) + "$"]
    return command


def reports(stdout: str) -> list[dict[str, Any]]:
    """checkov prints one report object, or a list of them when several runners ran."""
    parsed = json.loads(stdout)
    return parsed if isinstance(parsed, list) else [parsed]


def main(argv: list[str]) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("directory", nargs="?", type=Path, default=INFRA_DIR)
    options.add_argument("--config-file", type=Path, default=DEFAULT_CONFIG)
    args = options.parse_args(argv)

    with_extension = extension_files(args.directory)
    hidden = {path: types for path, types in with_extension.items() if types}
    for path, types in hidden.items():
        print(
            f"{path}: declares an extension, which checkov cannot parse, and ARM resources "
            f"({', '.join(sorted(set(types)))}) that checkov would never check: move them to a "
            "file without `extension`"
        )
    if hidden:
        return 1
    for path in with_extension:
        print(f"{path}: not scanned (an `extension` file with Microsoft Graph resources only)")

    command = checkov_command(args.directory, args.config_file, list(with_extension))
    if not Path(command[0]).exists():
        print(f"checkov_run: {command[0]} not found; run `make infra-tools`", file=sys.stderr)
        return 2

    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    try:
        found = reports(result.stdout)
    except json.JSONDecodeError:
        print(f"checkov_run: checkov printed no JSON report:\n{result.stderr[-2000:]}")
        return 2

    failed = parsing_errors = passed = 0
    for report in found:
        summary = report.get("summary", {})
        failed += summary.get("failed", 0)
        parsing_errors += summary.get("parsing_errors", 0)
        passed += summary.get("passed", 0)
        for check in report.get("results", {}).get("failed_checks", []):
            lines = "-".join(str(n) for n in check.get("file_line_range", []))
            print(
                f"{check.get('repo_file_path') or check.get('file_path')}:{lines}: "
                f"{check['check_id']} {check.get('check_name', '')} "
                f"({check.get('resource', '')})"
            )
        for path in report.get("results", {}).get("parsing_errors", []):
            print(f"{path}: checkov could not parse this file")

    print(
        f"checkov_run: {passed} passed, {failed} failed, {parsing_errors} parsing errors "
        f"in {args.directory}"
    )
    if failed or parsing_errors:
        return 1
    if passed == 0:
        print("checkov_run: no check ran; is there a .bicep file with resources?")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
