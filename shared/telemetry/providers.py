"""Which tracer and meter providers arcwave's spans and metrics go to.

Normally the global ones: no-op until `shared.telemetry.setup.configure` (or Azure Monitor's
distro) installs real ones as the app starts. A test hands its own in-memory providers to
`using` for a block; the global providers are never touched by tests.
"""

import contextlib
from collections.abc import Iterator

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

_tracer_provider: TracerProvider | None = None
_meter_provider: MeterProvider | None = None


def tracer_provider() -> TracerProvider | None:
    """The tracer provider in use; None: the global one."""
    return _tracer_provider


def meter_provider() -> MeterProvider | None:
    """The meter provider in use; None: the global one."""
    return _meter_provider


@contextlib.contextmanager
def using(
    tracer: TracerProvider | None = None, meter: MeterProvider | None = None
) -> Iterator[None]:
    """Send arcwave's spans and metrics to these providers for the block (tests)."""
    global _tracer_provider, _meter_provider
    before = _tracer_provider, _meter_provider
    _tracer_provider, _meter_provider = tracer, meter
    try:
        yield
    finally:
        _tracer_provider, _meter_provider = before
