"""Git webhooks and Flux notifications, read and verified without any I/O.

`parse_webhook` turns one delivery (provider, headers, raw body, secrets) into `Ping`,
`Ignored`, `Push` or `Pushes`, or raises `SignatureError`, `PayloadError`,
`WebhookConfigError` or `UnknownProvider`. `track_matches` / `paths_wanted` decide which tracks
a push feeds; `normalise_repo_url` gives each repository one key. `parse_flux_event` reads
notification-controller events. docs/webhooks.md is the operator's guide to all of it.
"""

from shared.webhooks.delivery_ids import derived_delivery_id
from shared.webhooks.errors import (
    PayloadError,
    SignatureError,
    UnknownProvider,
    WebhookConfigError,
    WebhookError,
)
from shared.webhooks.flux import CLUSTER_ID_KEY, FluxEvent, parse_flux_event
from shared.webhooks.globs import any_path_selected, compile_glob
from shared.webhooks.limits import FLUX_BODY_LIMIT, GIT_BODY_LIMITS, git_body_limit
from shared.webhooks.matching import paths_wanted, track_matches, track_wants
from shared.webhooks.providers import PROVIDERS, parse_webhook, provider_name
from shared.webhooks.refs import BRANCH_DELETED, NOT_A_BRANCH, TAG_PUSH
from shared.webhooks.results import Ignored, Ping, Push, Pushes, WebhookResult, pushes_in
from shared.webhooks.urls import RepoUrlError, normalise_repo_url

__all__ = [
    "BRANCH_DELETED",
    "CLUSTER_ID_KEY",
    "FLUX_BODY_LIMIT",
    "GIT_BODY_LIMITS",
    "NOT_A_BRANCH",
    "PROVIDERS",
    "TAG_PUSH",
    "FluxEvent",
    "Ignored",
    "PayloadError",
    "Ping",
    "Push",
    "Pushes",
    "RepoUrlError",
    "SignatureError",
    "UnknownProvider",
    "WebhookConfigError",
    "WebhookError",
    "WebhookResult",
    "any_path_selected",
    "compile_glob",
    "derived_delivery_id",
    "git_body_limit",
    "normalise_repo_url",
    "parse_flux_event",
    "parse_webhook",
    "paths_wanted",
    "provider_name",
    "pushes_in",
    "track_matches",
    "track_wants",
]
