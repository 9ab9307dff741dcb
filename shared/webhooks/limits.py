"""How large a delivery may be, per sender: each provider's own documented maximum.

A body over its sender's maximum cannot be a real delivery, so the trigger refuses it (413)
before reading it, let alone verifying or parsing it. Where a provider documents no maximum,
GitHub's 25 MiB is used (docs/webhooks.md says which).
"""

from shared.webhooks.body import MAX_BODY_BYTES

KIB = 1024
MIB = 1024 * KIB

GIT_BODY_LIMITS: dict[str, int] = {
    "github": MAX_BODY_BYTES,
    # "Payloads are capped at 25 MB" (docs.github.com, webhook events and payloads).
    "gitlab": 25 * MIB,
    # "Maximum payload size: 25 MB" (docs.gitlab.com, GitLab.com settings, Webhooks).
    "bitbucket": 256 * KIB,
    # "Webhook payload is limited to 256 KB" (support.atlassian.com, Bitbucket Cloud,
    # Troubleshoot webhooks).
    "azuredevops": MAX_BODY_BYTES,
    # Azure DevOps documents no maximum for service hook payloads: GitHub's cap.
    "gitea": MAX_BODY_BYTES,
    # Gitea, Forgejo and Gogs document no maximum (only a commit count): GitHub's cap.
}
"""The largest body arcwave reads from each Git provider, by `/api/hooks/{provider}` name."""

FLUX_BODY_LIMIT = 256 * KIB
"""The largest Flux notification-controller event. Its `message` is at most 39,000 characters
(fluxcd/notification-controller docs/spec, Event); even escaped as `\\uXXXX` (6 bytes each)
that is under 240 KB, and the rest of an event (object reference, a few metadata keys) is
small."""


def git_body_limit(provider: str) -> int:
    """The body cap of a provider (a canonical name from `provider_name`); GitHub's for any
    other."""
    return GIT_BODY_LIMITS.get(provider, MAX_BODY_BYTES)
