"""How the demo stops early."""


class DemoError(Exception):
    """The demo could not go on, or ended other than expected; the message says why."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM."""
