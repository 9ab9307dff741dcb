"""Private sources: whether the credentials a configuration carries are ones its source
accepts (``flux.sources`` in the scenario), and source-controller's message when not."""

from __future__ import annotations

import base64
import binascii
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from emulator.fluxconfigurations.models import FluxConfiguration
from emulator.scenario import FluxSource, SourceAccept

AUTHENTICATION_FAILED = "AuthenticationFailed"
# source-controller's messages when a private source refuses the credentials it was given.
SSH_AUTH_FAILED_MSG = (
    "failed to checkout and determine revision: unable to clone '{url}': ssh: handshake "
    "failed: ssh: unable to authenticate, attempted methods [none publickey], no supported "
    "methods remain"
)
HTTPS_AUTH_FAILED_MSG = (
    "failed to checkout and determine revision: unable to clone '{url}': authentication required"
)
OCI_AUTH_FAILED_MSG = (
    "failed to get credential from 'default': GET {registry}: unexpected status code "
    "401 Unauthorized"
)
SOURCE_URL_SECTIONS = {"GitRepository": "gitRepository", "OCIRepository": "ociRepository"}
"""The source kinds whose credentials the emulator checks against ``flux.sources``."""


def find_source(sources: list[FluxSource], url: str) -> FluxSource | None:
    """The ``flux.sources`` entry for ``url``: an exact match first, then the first glob."""
    for source in sources:
        if source.url == url:
            return source
    for source in sources:
        if fnmatchcase(url, source.url):
            return source
    return None


def source_auth_error(config: FluxConfiguration, sources: list[FluxSource]) -> str | None:
    """source-controller's message when the configuration's Git or OCI source is private and
    none of the credentials it carries is one the source accepts; None when Flux can fetch."""
    kind = config.source_kind
    section = SOURCE_URL_SECTIONS.get(kind)
    if section is None or not sources:
        return None
    url = str((config.spec.get(section) or {}).get("url") or "")
    source = find_source(sources, url)
    if source is None or not source.private or credentials_accepted(config, source.accept):
        return None
    if kind == "OCIRepository":
        return OCI_AUTH_FAILED_MSG.format(registry=_registry(url))
    if url.startswith(("ssh://", "git@")):
        return SSH_AUTH_FAILED_MSG.format(url=url)
    return HTTPS_AUTH_FAILED_MSG.format(url=url)


def credentials_accepted(config: FluxConfiguration, accept: SourceAccept) -> bool:
    """Whether any one credential form the source accepts matches what the configuration
    carries (protected settings and certificates travel base64-encoded)."""
    spec = config.spec
    kind = config.source_kind
    git = (spec.get("gitRepository") or {}) if kind == "GitRepository" else {}
    oci = (spec.get("ociRepository") or {}) if kind == "OCIRepository" else {}
    protected = spec.get("configurationProtectedSettings") or {}
    if (
        accept.ssh_private_key is not None
        and git.get("sshKnownHosts")
        and _decoded(protected.get("sshPrivateKey")) == accept.ssh_private_key.strip()
    ):
        return True
    if (
        accept.https_user is not None
        and accept.https_key is not None
        and git.get("httpsUser") == accept.https_user
        and _decoded(protected.get("httpsKey")) == accept.https_key.strip()
    ):
        return True
    if accept.local_auth_ref is not None and accept.local_auth_ref in {
        git.get("localAuthRef"),
        oci.get("localAuthRef"),
    }:
        return True
    if accept.provider == "Azure" and (
        str(git.get("provider") or "").lower() == "azure" or oci.get("useWorkloadIdentity") is True
    ):
        return True
    if accept.tls is not None:
        tls = oci.get("tlsConfig") or {}
        if (
            isinstance(tls, dict)
            and _decoded(tls.get("clientCertificate")) == accept.tls.client_certificate.strip()
            and _decoded(tls.get("privateKey")) == accept.tls.private_key.strip()
        ):
            return True
    return False


def _decoded(value: Any) -> str | None:
    """A base64 setting as text (surrounding whitespace ignored); None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8").strip()
    except (binascii.Error, ValueError):
        return None


def _registry(url: str) -> str:
    """``oci://contoso.azurecr.io/fleet`` -> ``https://contoso.azurecr.io/v2/`` (the registry
    endpoint the OCI client pings first)."""
    host = urlsplit(url).netloc or url.removeprefix("oci://").split("/", 1)[0]
    return f"https://{host}/v2/"
