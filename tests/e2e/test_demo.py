"""`arcwave demo` as `make demo` runs it: the emulator and devhost as child processes, a good
push rolled out, a bad one rolled back, and exit code 0 only when both ended as expected."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GOOD = "2b7e0c1"
BAD = "bad0c1f"


def demo(*args: str, timeout: float) -> tuple[int, str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "demo", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the demo stops the emulator and devhost
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        pytest.fail(f"arcwave demo did not finish in {timeout}s:\n{out.decode()[-6000:]}")
    return proc.returncode, out.decode("utf-8", "replace")


def test_the_demo_rolls_out_a_good_commit_and_rolls_back_a_bad_one(tmp_path: Path) -> None:
    state = tmp_path / "demo"
    code, out = demo("--port", "0", "--state", str(state), timeout=240)
    assert code == 0, out[-6000:]
    assert "Traceback" not in out
    assert "track baseline registered" in out
    assert f"rollout 1 · good {GOOD}: Succeeded (RolloutSucceeded), 3 waves" in out
    assert f"rollout 2 · bad {BAD}: RolledBack (RolledBack), 3 waves" in out
    assert "FailureBudgetExceeded" in out
    assert "all in wave canary; no later wave received it" in out
    for n in range(1, 5):
        assert f"canary-{n}: restored to {GOOD}, Compliant" in out
    assert "API: http://127.0.0.1:" in out
    assert "function key: " in out
    assert "demo passed in " in out
    assert (state / "logs" / "devhost.log").exists()
    assert (state / "logs" / "emulator.log").exists()


def test_a_foreign_state_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not the demo's")
    code, out = demo("--port", "0", "--state", str(tmp_path), timeout=60)
    assert code == 2
    assert "not a demo state folder" in out
    assert (tmp_path / "notes.txt").exists()
