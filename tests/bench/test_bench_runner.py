"""`python -m bench`: one table from every bench, the same as JSON, and an exit status that
says whether every bench ran and met its targets (bench/runner.py, bench/figures.py)."""

import json
import math
import types
from pathlib import Path

import pytest

from bench import runner
from bench.figures import Figure, Size, at_least, at_most, report


def test_targets_are_met_at_the_bound_and_never_by_a_missing_number() -> None:
    assert at_most(1.05).met(1.05) and not at_most(1.05).met(1.06)
    assert at_least(95).met(95) and not at_least(95).met(94.9)
    assert not at_most(0).met(math.nan)
    assert str(at_most(2000)) == "≤ 2,000" and str(at_least(95)) == "≥ 95"


def test_a_figure_shows_its_target_with_its_unit() -> None:
    ratio = Figure("b", "wall / ideal", 1.12, "x", at_most(1.05), "92.7 s / 82.6 s")
    assert (ratio.shown(), ratio.target_shown(), ratio.passed) == ("1.12 x", "≤ 1.05 x", False)
    share = Figure("b", "sustained", 97.5, "% of 5 x 10/s", at_least(95))
    assert share.target_shown() == "≥ 95 %" and share.passed
    assert Figure("b", "context", 3.0).passed is None


def test_the_json_report_says_when_where_and_at_which_size() -> None:
    figure = Figure("b", "429s", 0.0, "", at_most(0))
    data = report(Size.SMOKE, [figure], {"broken": "RuntimeError: no stack"})
    assert data["size"] == "smoke"
    assert data["machine"]["cores"] >= 1
    assert data["figures"] == [
        {
            "bench": "b",
            "name": "429s",
            "value": 0.0,
            "unit": "",
            "target": "≤ 0",
            "note": "",
            "passed": True,
        }
    ]
    assert data["errors"] == {"broken": "RuntimeError: no stack"}


def test_the_runner_runs_the_benches_asked_for_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "build" / "bench.json"
    code = runner.main(["--size", "smoke", "--only", "eta_simulate", "--json", str(out)])
    assert code == 0  # ran; its figures have no targets to miss
    data = json.loads(out.read_text())
    assert {f["bench"] for f in data["figures"]} == {"eta_simulate"}
    assert data["errors"] == {}


def test_a_bench_that_fails_or_misses_a_target_makes_the_run_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missed(size: Size) -> list[Figure]:
        return [Figure("slow", "ratio", 2.0, "x", at_most(1.05))]

    def broken(size: Size) -> list[Figure]:
        raise RuntimeError("the stack did not start")

    benches = {"slow": missed, "broken": broken}
    monkeypatch.setattr(runner, "names", lambda: sorted(benches))
    monkeypatch.setattr(runner, "load", lambda name: benches[name])
    figures, errors = runner.run(Size.SMOKE)
    assert [f.passed for f in figures] == [False]
    assert errors == {"broken": "RuntimeError: the stack did not start"}
    monkeypatch.setattr(runner, "run", lambda size, only: ([], {}))
    assert runner.main(["--size", "smoke"]) == 0
    monkeypatch.setattr(runner, "run", lambda size, only: (figures, {}))
    assert runner.main(["--size", "smoke"]) == 1


def test_a_module_without_figures_is_a_bench_that_cannot_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner.importlib, "import_module", lambda name: types.ModuleType(name))
    with pytest.raises(TypeError, match=r"bench/helpless.py has no figures\(size\)"):
        runner.load("helpless")
