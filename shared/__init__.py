"""arcwave's domain (track spec, revisions, planner, states) and its adapters to the world.

Nothing here imports the Functions runtime: triggers, orchestrators and activities build on
this package, never the other way round (checked by the import-linter contracts).
"""

from shared.version import __version__

__all__ = ["__version__"]
