"""A rollout plan: which cluster goes in which wave and batch, and why.

Plans are values: the same fleet and spec always give the same plan, and every cluster of the
fleet appears exactly once: in a wave, in `excluded` (with the reason) or in `unassigned`.
"""

from pydantic import Field

from shared.wire import WireModel


class Placement(WireModel):
    """One cluster in one wave, with the rule that put it there."""

    id: str
    name: str
    site: str | None = None
    offline: bool = False
    reason: str


class WavePlan(WireModel):
    """The clusters of one wave, in apply order, cut into batches that respect the caps."""

    name: str
    clusters: list[Placement] = Field(default_factory=list)
    batches: list[list[str]] = Field(default_factory=list)
    """Cluster ids per batch; a batch is applied at once, batches one after another."""

    @property
    def cluster_ids(self) -> list[str]:
        return [c.id for c in self.clusters]


class Exclusion(WireModel):
    """A cluster of the fleet that no wave will touch, and why."""

    id: str
    reason: str


class Plan(WireModel):
    """Waves in spec order, then what was left out."""

    track: str
    waves: list[WavePlan]
    excluded: list[Exclusion] = Field(default_factory=list)
    unassigned: list[str] = Field(default_factory=list)
    """Clusters no wave's selector or percent took: never dropped silently."""

    @property
    def cluster_count(self) -> int:
        return sum(len(w.clusters) for w in self.waves)

    @property
    def offline(self) -> list[str]:
        """Planned clusters whose Arc agent was offline when the plan was made."""
        return [c.id for w in self.waves for c in w.clusters if c.offline]

    def summary(self) -> dict[str, object]:
        """The `arcwave plan --json` contract: ids only, in plan order."""
        return {
            "track": self.track,
            "waves": [
                {"name": w.name, "clusters": w.cluster_ids, "batches": w.batches}
                for w in self.waves
            ],
            "excluded": [{"id": e.id, "reason": e.reason} for e in self.excluded],
            "unassigned": list(self.unassigned),
        }
