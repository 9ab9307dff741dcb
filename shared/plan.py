"""A rollout plan: which cluster goes in which wave, in what order, and why.

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
    """The clusters of one wave in write order, and the window that bounds them in flight.

    A cluster is in flight from its write until its verdict. At every instant at most
    `max_in_flight` clusters of the wave, and `max_per_site` of one site, are in flight; the
    next cluster in order whose site has room is written as soon as a slot frees."""

    name: str
    clusters: list[Placement] = Field(default_factory=list)
    max_in_flight: int = Field(default=1, ge=1)
    max_per_site: int | None = Field(default=None, ge=1)
    rounds: list[list[str]] = Field(default_factory=list)
    """Cluster ids written together if every cluster took the same time to settle: the first
    round is written at once, each later round as the one before settles. The fewest
    reconcile times the wave can take."""

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
                {
                    "name": w.name,
                    "clusters": w.cluster_ids,
                    "maxInFlight": w.max_in_flight,
                    "maxPerSite": w.max_per_site,
                    "rounds": w.rounds,
                }
                for w in self.waves
            ],
            "excluded": [{"id": e.id, "reason": e.reason} for e in self.excluded],
            "unassigned": list(self.unassigned),
        }
