"""What devhost's two test harnesses share: a state folder, a `with` block, the final statuses."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Self

from devhost.durable.instance import TERMINAL as _TERMINAL_STATUSES

#: The runtime statuses of a finished instance, the default of both harnesses' `wait_for`.
TERMINAL: tuple[str, ...] = tuple(status.value for status in _TERMINAL_STATUSES)


class Harness:
    """Resources registered on `_opened` are released, newest first, by `close()`.

    Leaving a `with` block closes the harness; entering runs `_on_enter` first.
    """

    def __init__(self) -> None:
        self._opened = contextlib.ExitStack()

    def _state_folder(self, state_dir: str | os.PathLike[str] | None, prefix: str) -> Path:
        """`state_dir`, or else a temporary folder that `close()` removes."""
        if state_dir is not None:
            return Path(state_dir)
        temporary = tempfile.TemporaryDirectory(prefix=prefix)
        return Path(self._opened.enter_context(temporary))

    def _on_enter(self) -> None:
        """Start what a `with` block needs running (nothing by default)."""

    def close(self) -> None:
        """Release everything the harness opened (idempotent)."""
        self._opened.close()

    def __enter__(self) -> Self:
        self._on_enter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
