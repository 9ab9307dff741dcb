"""One entry point for every Git provider: `parse_webhook(provider, headers, body, secrets)`."""

from collections.abc import Callable, Mapping

from shared.webhooks import azuredevops, bitbucket, gitea, github, gitlab
from shared.webhooks.common import Headers, Secrets
from shared.webhooks.model import UnknownProvider, WebhookResult

Parser = Callable[[Headers, bytes, Secrets], WebhookResult]

PARSERS: dict[str, Parser] = {
    github.PROVIDER: github.parse,
    gitlab.PROVIDER: gitlab.parse,
    azuredevops.PROVIDER: azuredevops.parse,
    bitbucket.PROVIDER: bitbucket.parse,
    gitea.PROVIDER: gitea.parse,
}
"""The providers arcwave reads, by the name used in `/api/hooks/{provider}`."""

ALIASES = {"forgejo": gitea.PROVIDER, "gogs": gitea.PROVIDER}
"""Other names accepted for a provider whose parser reads them too."""

PROVIDERS = tuple(PARSERS)


def provider_name(provider: str) -> str:
    """The canonical provider name for `provider` (case-insensitive, aliases resolved)."""
    name = provider.strip().lower()
    name = ALIASES.get(name, name)
    if name not in PARSERS:
        known = ", ".join(sorted([*PARSERS, *ALIASES]))
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
    return PARSERS[provider_name(provider)](Headers(headers), body, secrets)
