"""Every bench in bench/ runs at its smoke size and reports every figure with a number, so
the benches never rot. Smoke numbers mean nothing: no figure is compared with its target."""

import math

import pytest

from bench.figures import Size
from bench.runner import load, names
from tests.browser.chromium import missing

pytestmark = pytest.mark.integration


def test_every_bench_is_found() -> None:
    assert {"rollout_scale", "fleet_gateway", "hostile_input", "eta_simulate"} <= set(names())


@pytest.mark.parametrize("name", names())
def test_the_bench_runs_and_reports_every_figure_with_a_number(name: str) -> None:
    if name == "dashboard_render" and missing():
        pytest.skip(missing() or "")
    figures = load(name)(Size.SMOKE)
    assert figures, f"bench/{name}.py reported no figure"
    for figure in figures:
        assert figure.bench == name
        assert figure.name
        assert math.isfinite(figure.value), figure
