"""devhost: run a Python v2 (DFApp) function app folder locally, the way `func start` would.

It serves HTTP, Event Grid and timer triggers and runs Durable Functions on an
embedded SQLite engine that the real `DurableOrchestrationClient` talks to.
See docs/devhost.md for what is supported and every known difference from Azure.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
