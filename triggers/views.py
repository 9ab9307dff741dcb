"""The JSON the API answers with, built from store records (camelCase, stable field order,
every time in the store's fixed-width UTC format: `2026-11-26T12:00:00.000000Z`)."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from shared.store import ClusterRecord, RolloutRecord, TrackRecord
from shared.times import format_time


def track_view(track: TrackRecord) -> dict[str, Any]:
    return {
        "name": track.id,
        "spec": track.spec,
        "currentRevision": track.current_revision,
        "lastGoodRevision": track.last_good_revision,
        "activeRolloutId": track.active_rollout_id,
        "specVersion": track.spec_version,
        "updatedAt": format_time(track.updated_at),
    }


SUMMARY = {"id", "track", "revision", "state", "created_at", "updated_at"}
"""The fields of a rollout in lists, in the record's order."""


def rollout_summary(rollout: RolloutRecord) -> dict[str, Any]:
    return rollout.model_dump(mode="json", by_alias=True, include=SUMMARY)


def rollout_detail(rollout: RolloutRecord, clusters: list[ClusterRecord]) -> dict[str, Any]:
    summaries = {w.name: w for w in rollout.plan}
    gates = _gates(rollout)
    by_wave: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cluster in clusters:
        by_wave[cluster.wave or ""].append(
            {
                "id": cluster.cluster_id,
                "name": cluster.name,
                "state": cluster.state.value,
                "revision": cluster.desired_revision,
                "reason": cluster.reason.value if cluster.reason else None,
                "message": cluster.message,
                "site": cluster.site,
                "writtenAt": _time(cluster.written_at),
                "settledAt": _time(cluster.settled_at),
            }
        )
    return {
        **rollout_summary(rollout),
        "previousRevision": rollout.previous_revision,
        "reason": rollout.reason.value,
        "message": rollout.message,
        "trigger": rollout.trigger.model_dump(mode="json", by_alias=True),
        "specVersion": rollout.spec_version,
        "clusters": rollout.clusters,
        "alerts": _alerts(rollout),
        "windowsOverride": _override(rollout),
        "waves": [
            {
                "name": wave.name,
                "maxInFlight": plan.max_in_flight if plan else None,
                "maxPerSite": plan.max_per_site if plan else None,
                "state": wave.state.value,
                "reason": wave.reason.value if wave.reason else None,
                "message": wave.message,
                "gates": gates.get(wave.name),
                "counts": {state.value: count for state, count in wave.counts.items()},
                "clusters": by_wave.get(wave.name, []),
            }
            for wave in rollout.waves
            for plan in [summaries.get(wave.name)]
        ],
    }


def _alerts(rollout: RolloutRecord) -> list[dict[str, Any]]:
    """The Azure Monitor alerts firing on clusters the rollout wrote (docs/gates.md)."""
    return [
        {
            "rule": alert.rule,
            "severity": alert.severity.value,
            "clusters": alert.clusters,
            "firedAt": _time(alert.fired_at),
        }
        for alert in rollout.alerts.active.values()
    ]


def _override(rollout: RolloutRecord) -> dict[str, Any] | None:
    """Who overrode the rollout's maintenance windows, why and when; None when nobody did."""
    done = rollout.control.windows_override
    return None if done is None else {"by": done.by, "reason": done.reason, "at": _time(done.at)}


def _gates(rollout: RolloutRecord) -> dict[str, dict[str, Any]]:
    """Each planned wave's gates, from the spec the rollout runs (none before it is planned)."""
    if rollout.spec is None:
        return {}
    return {
        wave.name: {
            "approval": wave.approval,
            "approvalTimeoutSeconds": (
                wave.approval_timeout.total_seconds() if wave.approval_timeout else None
            ),
            "soakSeconds": wave.soak.total_seconds(),
            "maxFailures": wave.max_failures.to_wire(),
            "metricGates": list(wave.metric_gates),
        }
        for wave in rollout.planned_spec().waves
    }


def cluster_view(cluster: ClusterRecord) -> dict[str, Any]:
    return {
        "id": cluster.cluster_id,
        "name": cluster.name,
        "wave": cluster.wave,
        "state": cluster.state.value,
        "reason": cluster.reason.value if cluster.reason else None,
        "message": cluster.message,
        "desiredRevision": cluster.desired_revision,
        "appliedRevision": cluster.applied_revision,
        "lastGoodRevision": cluster.last_good_revision,
        "lastRolloutId": cluster.last_rollout_id,
        "writtenAt": _time(cluster.written_at),
        "settledAt": _time(cluster.settled_at),
        "restorePoint": (
            None
            if cluster.restore_point is None
            else {
                "capturedAt": format_time(cluster.restore_point.captured_at),
                "found": cluster.restore_point.configuration is not None,
            }
        ),
        "updatedAt": format_time(cluster.updated_at),
    }


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None
