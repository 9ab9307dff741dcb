"""The last committed history of each live instance, so an episode need not reload it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devhost.durable.instance import Instance
from devhost.durable.store import Store


@dataclass(frozen=True)
class _Entry:
    version: int
    history: list[dict[str, Any]]


class HistoryCache:
    """Histories keyed by instance id, valid only for the instance version they were cached at."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._entries: dict[str, _Entry] = {}

    def load(self, instance: Instance) -> list[dict[str, Any]]:
        """The instance's history: cached if the version matches, else read and cached."""
        entry = self._entries.get(instance.instance_id)
        if entry is not None and entry.version == instance.version:
            return entry.history
        history = self.store.load_history(instance.instance_id)
        self._entries[instance.instance_id] = _Entry(instance.version, history)
        return history

    def keep(self, instance: Instance, history: list[dict[str, Any]]) -> None:
        """Remember `history` as what `instance` (the version just committed) holds."""
        self._entries[instance.instance_id] = _Entry(instance.version, history)

    def forget(self, instance_id: str) -> None:
        self._entries.pop(instance_id, None)
