"""The planner: fleet + track spec → plan. Pure and deterministic.

Rules, in order:
1. A cluster outside the track's fleet selection (subscription, resource group, tags) or
   tagged `arcwave.io/exclude=true` is excluded, with the reason.
2. Waves take clusters in spec order from those not yet placed:
   - `selector`: every remaining cluster whose tags match (a list value means any of);
   - `percent: P`: ceil(P% of the remaining), at least one when any remain, chosen by a
     stable hash of track and cluster id, so a cluster keeps its wave as the fleet grows and
     the share spreads over sites instead of taking the first site whole;
   - neither: every remaining cluster.
3. What no wave took is `unassigned`.
4. Within a wave clusters are ordered by site, then name (then id); clusters without a site
   tag come last. Clusters in different subscriptions are then interleaved in proportion,
   each subscription keeping that order, so every subscription's write bucket (ARM's, 200 at
   once then 10/s each) has work in every batch instead of one subscription idling while the
   window holds another's clusters. That is the write order: the wave writes the next cluster
   in order whose site has room as soon as fewer than `maxConcurrency` of its clusters (and
   fewer than `perSiteConcurrency` of that site) are in flight, between write and verdict. A
   cluster without a site tag shares no site with any other. The plan also shows the rounds the
   window gives when every cluster takes the same time.
"""

import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from shared.cluster import Cluster
from shared.plan import Exclusion, Placement, Plan, WavePlan
from shared.trackspec import FleetSelection, Selector, TrackSpec, Wave


def plan_rollout(spec: TrackSpec, fleet: Iterable[Cluster]) -> Plan:
    """Place every cluster of `fleet` in one wave of `spec`, in `excluded` or in `unassigned`."""
    remaining: list[Cluster] = []
    excluded: list[Exclusion] = []
    for cluster in sorted(fleet, key=_identity):
        reason = cluster.exclusion or outside_selection(spec.fleet, cluster)
        if reason:
            excluded.append(Exclusion(id=cluster.id, reason=reason))
        else:
            remaining.append(cluster)

    waves: list[WavePlan] = []
    for wave in spec.waves:
        taken, reason = _take(spec.name, wave, remaining)
        chosen = {c.id for c in taken}
        remaining = [c for c in remaining if c.id not in chosen]
        waves.append(_wave_plan(wave, taken, reason, spec.fleet.site_tag))

    return Plan(
        track=spec.name,
        waves=waves,
        excluded=excluded,
        unassigned=[c.id for c in remaining],
    )


def outside_selection(selection: FleetSelection, cluster: Cluster) -> str | None:
    """Why `cluster` is not in the track's fleet selection, or None when it is.

    A cluster whose subscription or resource group is unknown (a bare fleet file) is judged on
    what is known.
    """
    if cluster.subscription_id and cluster.subscription_id.lower() not in selection.subscriptions:
        return f"subscription {cluster.subscription_id} is not in fleet.subscriptions"
    groups = {g.lower() for g in selection.resource_groups}
    if groups and cluster.resource_group and cluster.resource_group.lower() not in groups:
        return f"resource group {cluster.resource_group} is not in fleet.resourceGroups"
    mismatch = tag_mismatch(selection.tags, cluster)
    if mismatch:
        return f"{mismatch} (fleet.tags)"
    return None


def matches(selector: Selector, cluster: Cluster) -> bool:
    """Whether every tag of `selector` has one of its wanted values on `cluster`."""
    return tag_mismatch(selector, cluster) is None


def tag_mismatch(selector: Selector, cluster: Cluster) -> str | None:
    """The first selector tag the cluster does not satisfy, described; None when all match."""
    for key, wanted in selector.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        actual = cluster.tag(key)
        if actual not in allowed:
            want = "|".join(allowed)
            have = "missing" if actual is None else f"'{actual}'"
            return f"tag {key}={want} wanted, {have} found"
    return None


def describe_selector(selector: Selector) -> str:
    """`ring=canary,site=a|b` for reasons and tables."""
    parts = []
    for key, wanted in selector.items():
        parts.append(f"{key}={'|'.join(wanted) if isinstance(wanted, list) else wanted}")
    return ",".join(parts)


def _take(track: str, wave: Wave, remaining: Sequence[Cluster]) -> tuple[list[Cluster], str]:
    if wave.selector is not None:
        taken = [c for c in remaining if matches(wave.selector, c)]
        return taken, f"selector {describe_selector(wave.selector)}"
    if wave.percent is not None:
        if not remaining:
            return [], f"percent {wave.percent:g} of 0 remaining"
        count = max(1, math.ceil(round(len(remaining) * wave.percent / 100, 9)))
        ranked = sorted(remaining, key=lambda c: (_spread_key(track, c), c.id))
        return ranked[:count], f"percent {wave.percent:g} of {len(remaining)} remaining"
    return list(remaining), "remaining clusters"


def _wave_plan(wave: Wave, taken: Sequence[Cluster], reason: str, site_tag: str) -> WavePlan:
    ordered = interleaved(
        sorted(taken, key=lambda c: _order_key(c, site_tag)),
        lambda c: (c.subscription_id or "").lower(),
    )
    placements = [
        Placement(id=c.id, name=c.name, site=c.tag(site_tag), offline=c.is_offline, reason=reason)
        for c in ordered
    ]
    cap = max(1, window_size(wave, len(ordered)))
    return WavePlan(
        name=wave.name,
        clusters=placements,
        max_in_flight=cap,
        max_per_site=wave.per_site_concurrency,
        rounds=write_rounds(placements, cap, wave.per_site_concurrency),
    )


T = TypeVar("T")


def interleaved(ordered: Sequence[T], lane: Callable[[T], str]) -> list[T]:
    """`ordered` with its lanes (subscriptions) spread in proportion, each lane keeping its
    order: the k-th of a lane of n goes at (k + ½) / n, ties to the lane met first (lanes of
    3 and 1: a, a, b, a). One lane: `ordered` as it is."""
    lanes: dict[str, list[T]] = {}
    for item in ordered:
        lanes.setdefault(lane(item), []).append(item)
    if len(lanes) < 2:
        return list(ordered)
    slots = sorted(
        ((k + 0.5) / len(items), order, k)
        for order, items in enumerate(lanes.values())
        for k in range(len(items))
    )
    columns = list(lanes.values())
    return [columns[order][k] for _, order, k in slots]


def window_size(wave: Wave, clusters: int) -> int:
    """How many of the wave's `clusters` may be in flight at once (`maxConcurrency`, a count
    or a share of the wave rounded up; all of them when unset)."""
    return wave.max_concurrency.ceil_of(clusters) if wave.max_concurrency else clusters


def write_rounds(
    ordered: Sequence[Placement], max_per_batch: int, max_per_site: int | None
) -> list[list[str]]:
    """The rounds of the window when every cluster takes the same time: each round takes, in
    order, every cluster that still fits both caps.

    Equivalent to scanning the ordered list once per round, but linear in sites per round:
    clusters are queued per site in order, and a round takes up to `max_per_site` from each
    site's queue, sites in order, until it is full.
    """
    queues: dict[tuple[str, str], deque[Placement]] = {}
    for placement in ordered:
        # A cluster without a site is a site of its own.
        key = ("site", placement.site) if placement.site is not None else ("id", placement.id)
        queues.setdefault(key, deque()).append(placement)
    per_site = max_per_site or max_per_batch
    batches: list[list[str]] = []
    while queues:
        batch: list[str] = []
        for key in list(queues):
            queue = queues[key]
            take = min(per_site, max_per_batch - len(batch), len(queue))
            batch.extend(queue.popleft().id for _ in range(take))
            if not queue:
                del queues[key]
            if len(batch) == max_per_batch:
                break
        batches.append(batch)
    return batches


def _identity(cluster: Cluster) -> tuple[str, str]:
    return (cluster.id.lower(), cluster.id)


def _order_key(cluster: Cluster, site_tag: str) -> tuple[bool, str, str, str]:
    site = cluster.tag(site_tag)
    return (site is None, site or "", cluster.name, cluster.id)


def _spread_key(track: str, cluster: Cluster) -> str:
    return hashlib.sha256(f"{track}\x00{cluster.id.lower()}".encode()).hexdigest()
