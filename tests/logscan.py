"""The log scan: no secret the suite registered (`tests.support.secret`) shows in any log.

Each pytest process (each xdist worker) looks in two places, with its own registry (a worker
registers the secrets its own tests make):

- what pytest captured of every test phase: its log records, stdout and stderr (the report's
  sections), as each report is made;
- every log file under the session's temporary folder (`devhost.log`, `emulator.log`, the
  Cosmos stand-in's `stand-in.log`, captured `*.txt` output), once the session's fixtures are
  torn down and the processes that wrote them stopped.

A value is looked for as given, stripped, JSON-escaped (a private key inside a JSON line) and
base64-encoded (as ARM's `protectedSettings` carry it). A hit fails the session, naming the
file or test and the secret's name; the value itself is never printed.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

LOG_SUFFIXES = (".log", ".txt")
"""What counts as a log file under the session's temporary folder."""


@dataclass(frozen=True)
class Leak:
    """A secret found where it must not be: `where` (a file or a test's captured output), the
    secret's registered name and the form it was found in."""

    where: str
    name: str
    form: str

    def __str__(self) -> str:
        return f"{self.where}: holds the secret {self.name!r} ({self.form})"


@functools.cache
def forms(value: str) -> tuple[tuple[str, str], ...]:
    """The ways a log could show `value`: (how, text), each text once."""
    stripped = value.strip()
    candidates = [
        ("as is", value),
        ("stripped", stripped),
        ("JSON-escaped", json.dumps(stripped)[1:-1]),
        ("base64", _b64(value)),
        ("base64 of the stripped value", _b64(stripped)),
    ]
    seen: set[str] = set()
    unique = []
    for how, text in candidates:
        if text and text not in seen:
            seen.add(text)
            unique.append((how, text))
    return tuple(unique)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def find(text: str, where: str, secrets: Mapping[str, str]) -> list[Leak]:
    """Each secret of `secrets` (value → name) that `text` shows, once per secret."""
    leaks = []
    for value, name in secrets.items():
        for how, shown in forms(value):
            if shown in text:
                leaks.append(Leak(where, name, how))
                break
    return leaks


def in_sections(
    nodeid: str, sections: Iterable[tuple[str, str]], secrets: Mapping[str, str]
) -> list[Leak]:
    """The leaks in what pytest captured of one test phase (`report.sections`)."""
    return [
        leak
        for title, content in sections
        for leak in find(content, f"{nodeid} ({title})", secrets)
    ]


def log_files(root: Path) -> list[Path]:
    """Every log file under `root`."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(LOG_SUFFIXES))


def in_files(root: Path, secrets: Mapping[str, str]) -> list[Leak]:
    """The leaks in every log file under `root`."""
    if not secrets:
        return []
    return [
        leak
        for path in log_files(root)
        for leak in find(path.read_bytes().decode("utf-8", "replace"), str(path), secrets)
    ]


def failure(leaks: list[Leak]) -> str:
    """What the failed session says: every leak, by where and by name."""
    lines = "\n".join(f"  {leak}" for leak in leaks)
    return (
        f"{len(leaks)} secret(s) found in logs (names, never values; see tests/logscan.py):\n"
        f"{lines}"
    )
