"""One entry point for every Git provider: `parse_webhook(provider, headers, body, secrets)`."""

from collections.abc import Mapping

from shared.webhooks.azuredevops import AZURE_DEVOPS
from shared.webhooks.bitbucket import BITBUCKET
from shared.webhooks.errors import UnknownProvider
from shared.webhooks.git_delivery import GitProvider
from shared.webhooks.gitea import GITEA
from shared.webhooks.github import GITHUB
from shared.webhooks.gitlab import GITLAB
from shared.webhooks.headers import Headers
from shared.webhooks.results import WebhookResult
from shared.webhooks.signatures import Secrets

GIT_PROVIDERS: dict[str, GitProvider] = {
    p.name: p for p in (GITHUB, GITLAB, AZURE_DEVOPS, BITBUCKET, GITEA)
}
"""The providers arcwave reads, by the name used in `/api/hooks/{provider}`."""

ALIASES = {"forgejo": GITEA.name, "gogs": GITEA.name}
"""Other names accepted for a provider whose parser reads them too."""

PROVIDERS = tuple(GIT_PROVIDERS)


def provider_name(provider: str) -> str:
    """The canonical provider name for `provider` (case-insensitive, aliases resolved)."""
    name = provider.strip().lower()
    name = ALIASES.get(name, name)
    if name not in GIT_PROVIDERS:
        known = ", ".join(sorted([*GIT_PROVIDERS, *ALIASES]))
        raise UnknownProvider(f"unknown webhook provider '{provider[:40]}' (known: {known})")
    return name


def parse_webhook(
    provider: str, headers: Mapping[str, str], body: bytes, secrets: Secrets
) -> WebhookResult:
    """Verify one delivery over its raw `body` and say what it means.

    Raises `UnknownProvider`, `WebhookConfigError` (no secret), `SignatureError` (missing or
    wrong signature or token) or `PayloadError` (malformed headers or body); nothing else.
    The signature is checked before the body is read.
    """
    return GIT_PROVIDERS[provider_name(provider)].parse(Headers(headers), body, secrets)
