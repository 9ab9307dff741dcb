"""`python -m bench` (`make bench`): every bench in `bench/`, one table, and the same as JSON.

A bench is a module of `bench/` with `figures(size: Size) -> list[Figure]` (bench/figures.py);
the helpers listed in `HELPERS` are not benches. Each bench runs in turn, here, at the size
asked for (`full` by default, `smoke` for a quick look); one that raises is reported as not
run and the others go on. Exit status 0 when every bench ran and every figure with a target
met it, else 1.

    .venv/bin/python -m bench [--size smoke] [--only rollout_scale ...] [--json build/bench.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import bench
from bench.figures import Figure, Size, report, show

HELPERS = frozenset({"__main__", "figures", "ideal", "pushes", "runner", "stack"})
"""Modules of `bench/` that serve the benches."""
Bench = Callable[[Size], list[Figure]]


def names() -> list[str]:
    """Every bench module's name, in alphabetical order."""
    found = (m.name for m in pkgutil.iter_modules(bench.__path__))
    return sorted(name for name in found if name not in HELPERS)


def load(name: str) -> Bench:
    """A bench's `figures` function; a module without one is a bench that cannot run."""
    module: ModuleType = importlib.import_module(f"bench.{name}")
    found = getattr(module, "figures", None)
    if not callable(found):
        raise TypeError(f"bench/{name}.py has no figures(size) -> list[Figure] (bench/runner.py)")
    return found  # type: ignore[no-any-return]


def run(size: Size, only: Sequence[str] = ()) -> tuple[list[Figure], dict[str, str]]:
    """Run the benches (`only` those, when given): their figures, and why any did not run."""
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    for name in only or names():
        started = time.monotonic()
        print(f"bench {name} ({size.value}) ...", flush=True)
        try:
            got = load(name)(size)
        except Exception as error:
            traceback.print_exc()
            errors[name] = f"{type(error).__name__}: {error}"[:300]
            continue
        figures.extend(got)
        print(f"bench {name}: {len(got)} figures in {time.monotonic() - started:.0f}s", flush=True)
    return figures, errors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=Size, choices=list(Size), default=Size.FULL)
    parser.add_argument("--only", action="append", default=[], metavar="BENCH", choices=names())
    parser.add_argument("--json", type=Path, help="also write the figures there as JSON")
    args = parser.parse_args(argv)
    figures, errors = run(args.size, args.only)
    show(args.size, figures, errors)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report(args.size, figures, errors), indent=2) + "\n")
        print(f"figures written to {args.json}")
    missed = [f for f in figures if f.passed is False]
    return 1 if errors or missed else 0
