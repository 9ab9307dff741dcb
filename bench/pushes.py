"""Signed GitHub pushes, as the benches send them to `POST /api/hooks/github`."""

from __future__ import annotations

import hashlib
import hmac
import json

SUB = "00000000-0000-0000-0000-000000000001"
REPO = "https://github.com/contoso/fleet-config"
"""The repository the benches' tracks follow."""
BASE = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
"""The commit their fleets start on (the emulator's `main` head)."""


def commit(seed: str) -> str:
    """A 40-hex commit id derived from `seed` (the same seed, the same commit)."""
    return hashlib.sha1(seed.encode()).hexdigest()


def github_push(repo: str, sha: str, previous: str, pushed_at: int, branch: str = "main") -> bytes:
    """A GitHub push of one commit to `branch`, shaped as GitHub sends the fields arcwave
    reads."""
    entry = {"id": sha, "added": [], "removed": [], "modified": ["infra/app.yaml"]}
    return json.dumps(
        {
            "ref": f"refs/heads/{branch}",
            "before": previous,
            "after": sha,
            "created": False,
            "deleted": False,
            "forced": False,
            "commits": [entry],
            "head_commit": entry,
            "repository": {"clone_url": f"{repo}.git", "html_url": repo, "pushed_at": pushed_at},
            "pusher": {"name": "bench"},
        }
    ).encode()


def signed(secret: str, body: bytes, delivery: str) -> dict[str, str]:
    """The headers of a GitHub delivery of `body` signed with `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }
