"""The short chaos run of `make test`: one bad run of 60 clusters (a good commit rolled out,
then a bad one rolled back) with four devhost kills and every other fault kind at least once,
and every promise of docs/reliability.md checked afterwards. `make chaos` is the full size.

The seed is new each time and printed; `CHAOS_SEED=N` replays one
(`python -m tests.chaos --size short --seed N` does the same outside pytest).
"""

import os
import secrets
from pathlib import Path

import pytest

from tests.chaos.plan import SIZES, Kind
from tests.chaos.suite import chaos, print_table

pytestmark = pytest.mark.e2e


def test_a_short_chaos_run_keeps_every_promise(tmp_path: Path) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or secrets.randbelow(10**9))
    lines: list[str] = [f"chaos seed {seed}"]
    summary = chaos(SIZES["short"], seed, tmp_path, say=lines.append)
    lines.append(print_table(summary))
    lines.append(f"replay: CHAOS_SEED={seed}, or python -m tests.chaos --size short --seed {seed}")
    report = "\n".join(lines)
    print(report)
    assert not summary.violations, report
    assert summary.kills >= 3, report
    missing = [kind.value for kind in Kind if summary.done[kind] == 0]
    assert not missing, f"fault kinds never carried out: {missing}\n{report}"
