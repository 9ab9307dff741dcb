"""`python -m tests.chaos`: the chaos suite (`make chaos`). Exits 1 on any violation.

--size default|short   default: 4 runs of 200 clusters, 30 devhost kills; short: what
                       `make test` runs (1 run of 60 clusters, 4 kills)
--seed N               replay an invocation (its seed is printed first)
--only I [I ...]       only these runs of the invocation (a run's seed is `N:I`)
--runs N               override the number of runs
--folder DIR           where runs keep their state and logs (default: a temporary folder;
                       a run that broke a promise keeps its folder)
--keep                 keep every run's folder
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
import tempfile
from pathlib import Path

from tests.chaos.plan import SIZES
from tests.chaos.suite import chaos, print_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", type=int, nargs="+", default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    if args.runs is not None:
        size = dataclasses.replace(size, runs=args.runs)
    seed = args.seed if args.seed is not None else secrets.randbelow(10**9)
    print(
        f"chaos: size {size.name}, seed {seed} "
        f"(replay: python -m tests.chaos --size {size.name} --seed {seed})",
        flush=True,
    )
    folder = args.folder or Path(tempfile.mkdtemp(prefix="arcwave-chaos-"))
    summary = chaos(
        size, seed, folder, only=args.only, keep=args.keep, say=lambda s: print(s, flush=True)
    )
    print(print_table(summary), end="")
    if summary.violations:
        print(f"chaos: {len(summary.violations)} violations; seed {seed}; logs in {folder}")
        return 1
    print(f"chaos: every promise held; seed {seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
