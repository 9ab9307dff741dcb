"""Payloads and signing helpers shared by the webhook tests.

Reference payloads live in tests/payloads/ (copied unchanged from the providers' published
examples); `sign_*` build the headers each provider sends for a body.
"""

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.webhooks import Push, WebhookResult, parse_webhook
from tests.support import secret

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads"
SECRET = secret("webhook secret", "It's a Secret to Everybody")
OTHER_SECRET = secret("another sender's webhook secret", "not-the-configured-secret")
FLUX_KEY = secret("Flux HMAC key", "flux-hmac-key-0123456789")

SHA_A = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
SHA_B = "59b20b8d5c6693c4f5ef3d22d8e6f1f5a0c6f1de"
SHA_C = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
ZERO = "0" * 40

Headers = dict[str, str]
Signer = Callable[[bytes], Headers]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def raw(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def hex_hmac(body: bytes, secret: str = SECRET, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def sign_github(
    body: bytes,
    event: str = "push",
    delivery: str | None = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    secret: str = SECRET,
) -> Headers:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Hook-ID": "292430182",
        "X-Hub-Signature": "sha1=" + hex_hmac(body, secret, "sha1"),
        "X-Hub-Signature-256": "sha256=" + hex_hmac(body, secret),
        "User-Agent": "GitHub-Hookshot/044aadd",
        "Content-Type": "application/json",
    }
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    return headers


def sign_gitlab(
    body: bytes,
    event: str = "Push Hook",
    token: str = SECRET,
    idempotency_key: str | None = "f3d0b2c4-8a36-4b0e-9d1e-6c1b9c8f0a11",
    event_uuid: str | None = "9b2c6f5e-3b7a-4c1e-8f0d-2a4e6c8b0d13",
) -> Headers:
    headers = {
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": token,
        "X-Gitlab-Instance": "https://gitlab.example.com",
        "X-Gitlab-Webhook-UUID": "5d1c8e0a-0c4b-4f6e-b2a7-1e3f5a7c9b20",
        "User-Agent": "GitLab/17.5.0",
        "Content-Type": "application/json",
    }
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    if event_uuid is not None:
        headers["X-Gitlab-Event-UUID"] = event_uuid
    return headers


def sign_azuredevops(body: bytes, secret: str = SECRET, user: str = "arcwave") -> Headers:
    credentials = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}", "Content-Type": "application/json"}


def sign_bitbucket(
    body: bytes,
    event: str = "repo:push",
    secret: str = SECRET,
    request_uuid: str = "8c3d5e7f-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
) -> Headers:
    return {
        "X-Event-Key": event,
        "X-Hook-UUID": "e1b2c3d4-5f60-4718-92a3-b4c5d6e7f809",
        "X-Request-UUID": request_uuid,
        "X-Attempt-Number": "1",
        "X-Hub-Signature": "sha256=" + hex_hmac(body, secret),
        "Content-Type": "application/json",
    }


def sign_gitea(
    body: bytes,
    event: str = "push",
    secret: str = SECRET,
    flavour: str = "Gitea",
    delivery: str = "f6266f16-1bf3-46a5-9ea4-602e06ead473",
) -> Headers:
    digest = hex_hmac(body, secret)
    return {
        f"X-{flavour}-Delivery": delivery,
        f"X-{flavour}-Event": event,
        f"X-{flavour}-Event-Type": event,
        f"X-{flavour}-Signature": digest,
        "X-Gogs-Delivery": delivery,
        "X-Gogs-Event": event,
        "X-Gogs-Signature": digest,
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Event": event,
        "X-Hub-Signature": "sha1=" + hex_hmac(body, secret, "sha1"),
        "X-Hub-Signature-256": "sha256=" + digest,
        "Content-Type": "application/json",
    }


def sign_flux(body: bytes, key: str = FLUX_KEY, algorithm: str = "sha256") -> Headers:
    return {
        "Content-Type": "application/json",
        "Gotk-Component": "kustomize-controller",
        "User-Agent": "Go-http-client/1.1",
        "X-Signature": f"{algorithm}=" + hex_hmac(body, key, algorithm),
    }


@dataclass(frozen=True)
class Hook:
    """One provider as the tests deliver to it: its name and how it signs a body."""

    provider: str
    sign: Callable[..., Headers]

    def parse(self, body: bytes, headers: Headers, secrets: Any = SECRET) -> WebhookResult:
        return parse_webhook(self.provider, headers, body, secrets)

    def signed(self, body: bytes | dict[str, Any], **signing: Any) -> tuple[bytes, Headers]:
        """`body` (a dict is JSON-encoded) and the headers the provider signs it with."""
        raw = body if isinstance(body, bytes) else dumps(body)
        return raw, self.sign(raw, **signing)

    def deliver(
        self, body: bytes | dict[str, Any], secrets: Any = SECRET, **signing: Any
    ) -> WebhookResult:
        """`body` signed as the provider signs it, then parsed."""
        return self.parse(*self.signed(body, **signing), secrets)

    def push(self, body: bytes | dict[str, Any], secrets: Any = SECRET, **signing: Any) -> Push:
        """`deliver`, which must give one `Push`."""
        result = self.deliver(body, secrets, **signing)
        assert isinstance(result, Push), result
        return result


GITHUB = Hook("github", sign_github)
GITLAB = Hook("gitlab", sign_gitlab)
AZURE_DEVOPS = Hook("azuredevops", sign_azuredevops)
BITBUCKET = Hook("bitbucket", sign_bitbucket)
GITEA = Hook("gitea", sign_gitea)
FORGEJO = Hook("forgejo", lambda body, **signing: sign_gitea(body, flavour="Forgejo", **signing))


def github_push(
    before: str = SHA_A,
    after: str = SHA_B,
    ref: str = "refs/heads/main",
    files: list[list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The published new-branch push turned into an ordinary push of one or more commits."""
    data = load("github-push-new-branch.json")
    template = data["commits"][0]
    commits = []
    for index, paths in enumerate(files if files is not None else [["clusters/wave1/apps.yaml"]]):
        commit = copy.deepcopy(template)
        commit.update(id=f"{index:040x}", added=[], removed=[], modified=paths)
        commits.append(commit)
    data.update(ref=ref, before=before, after=after, created=False, commits=commits)
    data["head_commit"] = commits[-1] if commits else None
    data.update(extra)
    return data


def bitbucket_push(
    changes: list[dict[str, Any]] | None = None, full_name: str = "contoso/fleet-config"
) -> dict[str, Any]:
    """A `repo:push` payload in the shape Atlassian documents (azure-facts 6.4)."""
    return {
        "actor": {
            "type": "user",
            "display_name": "Ada Lovelace",
            "nickname": "ada",
            "uuid": "{d301aafa-d676-4ee0-88be-962be7417567}",
            "account_id": "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443",
        },
        "repository": {
            "type": "repository",
            "full_name": full_name,
            "name": full_name.split("/")[-1],
            "uuid": "{b7d5a3c1-5a4f-4d2b-9c7e-3f1a2b3c4d5e}",
            "scm": "git",
            "is_private": True,
            "links": {
                "self": {"href": f"https://api.bitbucket.org/2.0/repositories/{full_name}"},
                "html": {"href": f"https://bitbucket.org/{full_name}"},
                "avatar": {"href": f"https://bytebucket.org/ravatar/{full_name}"},
            },
            "workspace": {"type": "workspace", "slug": full_name.split("/")[0]},
        },
        "push": {"changes": changes if changes is not None else [bitbucket_change()]},
    }


def bitbucket_ref(name: str, sha: str, kind: str = "branch") -> dict[str, Any]:
    return {
        "type": kind,
        "name": name,
        "target": {
            "type": "commit",
            "hash": sha,
            "date": "2026-11-26T10:00:00+00:00",
            "message": "wave1: bump app\n",
            "author": {"type": "author", "raw": "Ada Lovelace <ada@example.com>"},
            "parents": [],
        },
        "links": {"html": {"href": f"https://bitbucket.org/contoso/fleet-config/branch/{name}"}},
    }


def bitbucket_change(
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    **flags: bool,
) -> dict[str, Any]:
    """One entry of `push.changes`; pass `{}` for a null `new` (deletion) or `old` (creation)."""
    new = bitbucket_ref("main", SHA_B) if new is None else new
    old = bitbucket_ref("main", SHA_A) if old is None else old
    return {
        "new": new or None,
        "old": old or None,
        "created": flags.get("created", False),
        "closed": flags.get("closed", False),
        "forced": flags.get("forced", False),
        "truncated": False,
        "commits": [{"type": "commit", "hash": SHA_B, "message": "wave1: bump app\n"}],
        "links": {},
    }


def flux_event(revision: str | None, cluster_id: str | None = "/sub/c1") -> dict[str, Any]:
    data = load("flux-notification-generic-event.json")
    metadata: dict[str, str] = {}
    if revision is not None:
        metadata["revision"] = revision
    if cluster_id is not None:
        metadata["clusterId"] = cluster_id
    data["metadata"] = metadata
    return data


SAMPLES: list[tuple[str, str, Signer]] = [
    ("github", "github-push-new-branch.json", sign_github),
    ("github", "github-push-tag-delete.json", sign_github),
    ("github", "github-ping.json", lambda b: sign_github(b, event="ping")),
    ("github", "github-ping-organization.json", lambda b: sign_github(b, event="ping")),
    ("github", "github-create-tag.json", lambda b: sign_github(b, event="create")),
    ("gitlab", "gitlab-push.json", sign_gitlab),
    ("gitlab", "gitlab-tag-push.json", lambda b: sign_gitlab(b, event="Tag Push Hook")),
    ("azuredevops", "azure-devops-git-push.json", sign_azuredevops),
    ("azuredevops", "azure-devops-git-push-2022.json", sign_azuredevops),
    ("gitea", "gitea-push.json", sign_gitea),
    ("gitea", "forgejo-push.json", lambda b: sign_gitea(b, flavour="Forgejo")),
]
"""(provider, reference payload, signer) for every reference body."""


def sample_bodies() -> list[tuple[str, bytes, Signer]]:
    """Every reference body plus the built ones (a GitHub push with files, Bitbucket)."""
    bodies = [(provider, raw(name), signer) for provider, name, signer in SAMPLES]
    bodies.append(("github", dumps(github_push()), sign_github))
    bodies.append(("bitbucket", dumps(bitbucket_push()), sign_bitbucket))
    return bodies
