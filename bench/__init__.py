"""Benchmarks: each module measures and reports figures; `python -m bench` (`make bench`) runs
them all (bench/runner.py, docs/performance.md)."""
