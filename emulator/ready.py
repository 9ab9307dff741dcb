"""The line ``python -m emulator`` prints once it serves: the one thing a parent process waits
for (:class:`emulator.process.EmulatorProcess`, or any script that reads the output)."""

from __future__ import annotations

import re

READY_MSG = "emulator ready on {endpoint}"
READY_LINE = re.compile(re.escape(READY_MSG.split("{endpoint}")[0]) + r"(\S+)")
"""Finds the ready line in the output; its group is the endpoint."""
