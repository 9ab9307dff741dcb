"""Azure Monitor for the orchestrator tier's world: a metric whose value on a cluster depends
on the commit written there, like the emulator's synthetic series."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shared.adapters.monitor_answers import ClusterRef
from shared.errors import ArcwaveError
from shared.trackspec import MetricGate

if TYPE_CHECKING:
    from tests.unit.orchestrators.world import FakeFleet


class FakeMonitor:
    """`values()` answers `by_commit[prefix]` for a cluster whose configuration was written
    with a commit starting with `prefix`, else `default`; `error` makes every query fail."""

    def __init__(self, fleet: FakeFleet) -> None:
        self.fleet = fleet
        self.default = 0.01
        self.by_commit: dict[str, float] = {}
        self.error: ArcwaveError | None = None
        self.queries: list[tuple[str, int]] = []
        """(gate, number of clusters asked about) for each query."""

    def values(self, gate: MetricGate, clusters: Sequence[ClusterRef]) -> dict[str, float]:
        self.queries.append((gate.name, len(clusters)))
        if self.error is not None:
            raise self.error
        result = {}
        for ref in clusters:
            config = self.fleet.cluster(ref.id).configurations.get("baseline")
            commit = (config.commit if config else None) or ""
            matched = [v for prefix, v in self.by_commit.items() if commit.startswith(prefix)]
            result[ref.id] = matched[0] if matched else self.default
        return result
