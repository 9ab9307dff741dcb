"""docs/emulator.md's COVERAGE list names every handler in the route table."""

from __future__ import annotations

from pathlib import Path

from emulator.keyvault.urls import HANDLERS as KEYVAULT_HANDLERS
from emulator.loganalytics.urls import HANDLERS as LOG_ANALYTICS_HANDLERS
from emulator.prometheus.urls import HANDLERS as PROMETHEUS_HANDLERS
from emulator.server import ROUTES

DOC = Path(__file__).resolve().parents[3] / "docs" / "emulator.md"


def test_every_route_handler_is_listed() -> None:
    text = DOC.read_text(encoding="utf-8")
    coverage = text[text.index("## COVERAGE") :]
    handlers = {handler.__name__ for route in ROUTES for handler in route.methods.values()}
    for extra in (KEYVAULT_HANDLERS, LOG_ANALYTICS_HANDLERS, PROMETHEUS_HANDLERS):
        handlers |= {handler.__name__ for handler in extra}
    missing = sorted(name for name in handlers if f"(`{name}`)" not in coverage)
    assert not missing, f"add these to the COVERAGE list in docs/emulator.md: {missing}"
