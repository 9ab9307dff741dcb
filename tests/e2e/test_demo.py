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
LOG_LINES = 200
"""The most lines the demo may log at the default level. It logs devhost's banner (a line per
function, ~31), one line per recorded decision (21 over its two rollouts) and a few lines once
(the runtime starting, the track created, each push handed over): ~60. The bound leaves room
for more waves, a few warnings and a longer banner, never for a line per poll (~100 window
steps), per invocation (~770) or per HTTP call to Azure (the SDK's ~1,000 multi-line records),
which made the demo log over 11,000 lines."""
OTHER_LINES = 20
"""Of those, the lines that are neither the banner nor a decision: once-only lines and
problems; a line per poll or per cluster would pass it."""


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
    assert "dashboard: http://127.0.0.1:" in out and "/api/ui\n" in out
    assert "/.auth/login/aad?post_login_redirect_uri=/api/ui" in out
    assert "API: http://127.0.0.1:" in out
    assert "function key: " in out
    assert "demo passed in " in out
    devhost = (state / "logs" / "devhost.log").read_text().splitlines()
    emulator = (state / "logs" / "emulator.log").read_text().splitlines()
    assert len(devhost) < LOG_LINES, "\n".join(devhost[-60:])
    assert len(emulator) < OTHER_LINES, "\n".join(emulator[-60:])
    decisions = [line for line in devhost if " decision rollout=" in line]
    assert len(decisions) >= 20, "each recorded step of both rollouts logs its line"
    others = [line for line in devhost if not line.startswith("devhost:") and line not in decisions]
    assert len(others) < OTHER_LINES, "\n".join(others)


def test_a_foreign_state_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not the demo's")
    code, out = demo("--port", "0", "--state", str(tmp_path), timeout=60)
    assert code == 2
    assert "not a demo state folder" in out
    assert (tmp_path / "notes.txt").exists()
