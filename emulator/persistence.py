"""``--state FILE``: the fleet survives restarts.

The file holds clusters, configurations with their status, branch heads, faults and the write
log, as JSON written atomically (temp file + rename). In-flight async operations are not
kept: on load, writes count as finished and pending deletes as done; configurations whose
status lags their spec reconcile again.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from emulator.backend import Backend
from emulator.connectedclusters.models import ConnectedCluster
from emulator.scenario import FailureRule, FaultsSpec, SlowRule, ThrottleSpec

STATE_VERSION = 1
STATE_VERSION_MSG = "state file '{path}' has version {found}, expected {expected}"


def dump_state(backend: Backend) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "branchHeads": backend.flux.branch_heads,
        "tags": backend.flux.tags,
        "faults": backend.faults.to_wire(),
        "clusters": [cluster.to_state() for cluster in backend.clusters.values()],
        "writes": backend.writes,
    }


def save_state(backend: Backend, path: Path) -> None:
    data = json.dumps(dump_state(backend), separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    backend.dirty = False


def load_state(backend: Backend, path: Path) -> bool:
    """Replace the backend's fleet with the saved one; False when there is no file yet."""
    if not path.exists():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != STATE_VERSION:
        raise ValueError(
            STATE_VERSION_MSG.format(path=path, found=data.get("version"), expected=STATE_VERSION)
        )
    backend.flux.branch_heads = dict(data["branchHeads"])
    backend.flux.tags = dict(data.get("tags") or {})
    faults = data.get("faults") or {}
    spec = FaultsSpec(
        slow=[SlowRule.model_validate(rule) for rule in faults.get("slow", [])],
        arm_error_rate=faults.get("armErrorRate", 0.0),
        throttle=ThrottleSpec.model_validate(faults["throttle"])
        if faults.get("throttle")
        else None,
        seed=backend.scenario.faults.seed,
    )
    failures = [FailureRule.model_validate(rule) for rule in faults.get("failures", [])]
    backend.set_faults(spec, failures)
    backend.clusters = {}
    for item in data["clusters"]:
        cluster = ConnectedCluster.from_state(item)
        backend.clusters[cluster.key] = cluster
        for name, config in list(cluster.configurations.items()):
            if config.deleting:
                del cluster.configurations[name]
                continue
            if config.provisioning_state in {"Creating", "Updating"}:
                config.provisioning_state = "Succeeded"
            if cluster.online and backend.needs_reconcile(config):
                backend.queue.schedule(cluster.key, name, backend.faults.slow_factor(cluster))
    backend.writes = list(data.get("writes") or [])
    backend.dirty = False
    return True
