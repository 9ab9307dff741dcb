"""arcwave's version: one place, read by packaging and by /api/healthz."""

__version__ = "0.1.0"
