"""`python -m devhost`: start-up errors and the generated function key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import eventually

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def devhost_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVHOST_FUNCTION_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def http_status(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_missing_app_folder_exits_2_with_a_hint(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devhost", "--app", str(tmp_path / "nope"), "--port", "0"],
        capture_output=True,
        text=True,
        env=devhost_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert "no function_app.py" in result.stderr and "--app" in result.stderr


def test_bad_host_json_exits_2(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\napp = func.FunctionApp()\n"
    )
    (tmp_path / "host.json").write_text("{broken")
    result = subprocess.run(
        [sys.executable, "-m", "devhost", "--app", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        env=devhost_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert "host.json is not valid JSON" in result.stderr


def test_generated_key_is_printed_once_and_enforced(tmp_path: Path, app_dir: Path) -> None:
    """Without DEVHOST_FUNCTION_KEY a key is generated, printed at start and enforced."""
    log = tmp_path / "out.txt"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devhost",
                "--app",
                str(app_dir),
                "--port",
                "0",
                "--state",
                str(tmp_path / "state"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=devhost_env(),
        )
    try:

        def listening() -> bool:
            assert proc.poll() is None, log.read_text()
            return "listening on" in log.read_text()

        eventually(listening, timeout=60, interval=0.05, what="devhost listening")
        text = log.read_text()
        key = re.search(r"function key \(generated; set DEVHOST_FUNCTION_KEY[^)]*\): (\S+)", text)
        assert key, text
        base = re.search(r"listening on (http://\S+)", text)
        assert base, text
        assert http_status(f"{base.group(1)}/api/items/1") == 401
        assert http_status(f"{base.group(1)}/api/items/1?code={key.group(1)}") == 200
        assert log.read_text().count(key.group(1)) == 1
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.returncode == 0
