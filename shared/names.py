"""The ids arcwave gives rollouts and durable instances: deterministic, readable, and short.

Durable Task Scheduler accepts instance ids of at most 100 printable characters
(learn.microsoft.com, Durable Task Scheduler overview, limits), and track and wave names may
each be 63 characters long. Every id here is derived from what it names, so the same cause
always gives the same id, and is cut to its limit by keeping the readable start and adding a
hash of the whole (`-h` and 8 hex digits), so two long names never share an id.

    rollout id         baseline-2b7e0c1-5f3a9c1e          (at most 64: also a Cosmos id)
    track              track:baseline
    wave               baseline-2b7e0c1-5f3a9c1e:canary
    wave rollback      baseline-2b7e0c1-5f3a9c1e:canary:rollback
    recovery           baseline-2b7e0c1-5f3a9c1e:recover
"""

import hashlib
import re

from shared.revision import short_revision

MAX_INSTANCE_ID = 100
"""Durable Task Scheduler's limit on instance ids."""
MAX_ROLLOUT_ID = 64
"""Rollout ids leave room for a wave's suffix inside `MAX_INSTANCE_ID`."""
HASH_LENGTH = 8


def digest(text: str, length: int = HASH_LENGTH) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def fit(text: str, limit: int) -> str:
    """`text` when it fits `limit`; else its start and `-h` with a hash of the whole (no `~`,
    which the store escapes in ids)."""
    if len(text) <= limit:
        return text
    keep = limit - HASH_LENGTH - 2
    return f"{text[:keep].rstrip('-:.')}-h{digest(text)}"


def rollout_id(track: str, revision: str, cause: str) -> str:
    """A readable id unique to (track, revision, cause): `baseline-2b7e0c1-5f3a9c1e`
    (an OCI revision shows its tag: `apps-v1.2.3-5f3a9c1e`)."""
    tail = digest(f"{track}\x1f{revision}\x1f{cause}")
    head = fit(f"{track}-{_shown(revision)}", MAX_ROLLOUT_ID - HASH_LENGTH - 1)
    return f"{head}-{tail}"


def track_instance(track: str) -> str:
    """The track orchestrator's instance: `track:<name>` (at most 69 characters)."""
    return f"track:{track}"


def wave_instance(rollout_id: str, wave: str, *, rollback: bool = False) -> str:
    """A wave's sub-orchestration (or its rollback's) within `MAX_INSTANCE_ID`."""
    suffix = ":rollback" if rollback else ""
    return fit(f"{rollout_id}:{wave}", MAX_INSTANCE_ID - len(suffix)) + suffix


def recovery_instance(rollout_id: str) -> str:
    """The orchestration that closes a rollout whose own orchestration ended without doing so."""
    return fit(f"{rollout_id}:recover", MAX_INSTANCE_ID)


def _shown(revision: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", short_revision(revision).removeprefix("sha256:"))[:40]
