"""The log scan finds what it must (tests/logscan.py), so its silence over the suite means
something. These cases use a registry of their own: the suite's is never touched."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import logscan
from tests.support import SECRETS, secret

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2NhbnRlc3Q=\n-----END OPENSSH PRIVATE KEY-----\n"
TOKEN = "scan-test-token-0123456789"
REGISTRY = {KEY: "planted private key", TOKEN: "planted token"}


def test_a_secret_is_found_in_a_log_file_in_every_form_a_log_could_show_it(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "stack" / "logs"
    logs.mkdir(parents=True)
    (logs / "devhost.log").write_text(f"INFO arcwave: token={TOKEN}\n")
    (logs / "emulator.log").write_text(json.dumps({"key": KEY.strip()}) + "\n")
    (logs / "stand-in.log").write_text(base64.b64encode(KEY.encode()).decode() + "\n")
    (tmp_path / "out.txt").write_text(f"key: {KEY.strip()} (end)\n")
    (tmp_path / "arcwave.db").write_text(TOKEN)  # not a log: not read
    leaks = logscan.in_files(tmp_path, REGISTRY)
    assert {(Path(leak.where).name, leak.name, leak.form) for leak in leaks} == {
        ("devhost.log", "planted token", "as is"),
        ("emulator.log", "planted private key", "JSON-escaped"),
        ("stand-in.log", "planted private key", "base64"),
        ("out.txt", "planted private key", "stripped"),
    }


def test_what_pytest_captured_is_scanned_and_the_failure_names_never_values() -> None:
    sections = [("Captured log call", f"WARNING arcwave: signing with {TOKEN}"), ("x", "clean")]
    leaks = logscan.in_sections("tests/x.py::test_y", sections, REGISTRY)
    assert [str(leak) for leak in leaks] == [
        "tests/x.py::test_y (Captured log call): holds the secret 'planted token' (as is)"
    ]
    message = logscan.failure(leaks)
    assert TOKEN not in message and "planted token" in message


def test_clean_logs_and_an_empty_registry_find_nothing(tmp_path: Path) -> None:
    (tmp_path / "devhost.log").write_text("INFO arcwave: decision rollout=r1 reason=Planned\n")
    assert logscan.in_files(tmp_path, REGISTRY) == []
    (tmp_path / "devhost.log").write_text(TOKEN)
    assert logscan.in_files(tmp_path, {}) == []


def test_a_secret_too_short_to_look_for_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 8 characters"):
        secret("short", "hunter2")
    assert "hunter2" not in SECRETS


PLANTED_CONFTEST = "from tests.conftest import *  # noqa: F403  the suite's own scan\n"
PLANTED_TEST = """
import logging

from tests.support import secret

VALUE = secret("planted webhook secret", "planted-" + "value-0123456789")


def test_logs_a_secret():
    logging.getLogger("arcwave").warning("signing with %s", VALUE)


def test_writes_a_secret_to_a_log_file(tmp_path):
    (tmp_path / "devhost.log").write_text("token " + VALUE)


def test_clean():
    logging.getLogger("arcwave").warning("nothing to see")
"""


@pytest.mark.parametrize("only", ["test_logs_a_secret", "test_writes_a_secret_to_a_log_file"])
def test_a_planted_secret_fails_the_session_that_logged_it(tmp_path: Path, only: str) -> None:
    """The scan as the suite runs it (tests/conftest.py), on a session of its own whose test
    leaks a registered secret into what pytest captures, or into a log file: the session
    fails, naming the secret and never showing its value; without the leak it passes."""
    (tmp_path / "conftest.py").write_text(PLANTED_CONFTEST)
    (tmp_path / "test_planted.py").write_text(PLANTED_TEST)
    root = Path(__file__).resolve().parents[2]

    def session(select: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:xdist",
                "--show-capture=no",
                f"--basetemp={tmp_path / 'base'}",
                "--rootdir",
                str(tmp_path),
                "-k",
                select,
                str(tmp_path / "test_planted.py"),
            ],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    leaked = session(only)
    output = leaked.stdout + leaked.stderr
    assert leaked.returncode != 0, output
    assert "secret(s) found in logs" in output and "'planted webhook secret'" in output, output
    assert "planted-value-0123456789" not in output  # the leak is named, never repeated
    clean = session("test_clean")
    assert clean.returncode == 0, clean.stdout + clean.stderr
