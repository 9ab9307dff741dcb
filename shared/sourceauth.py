"""How Flux authenticates to a track's source: the `source.auth` block of a track spec.

```yaml
source:
  url: ssh://git@ssh.dev.azure.com/v3/contoso/fleet/fleet-config
  branch: main
  auth:                        # at most one of ssh, https, localAuthRef, provider
    ssh:
      privateKey: {secret: fleet-ssh-key}      # a Key Vault secret; optional `version`
      knownHosts: "ssh.dev.azure.com ssh-rsa AAAAB3Nza..."
    # https: {user: git, token: {secret: ado-pat}}
    # localAuthRef: flux-git-credentials       # a secret already on each cluster
    # provider: azure                          # workload identity (Azure DevOps, ACR)
    # caCertificate: "-----BEGIN CERTIFICATE-----..."
    # clientCertificate: {certificate: "-----BEGIN...", privateKey: {secret: registry-key}}
```

Secret values never appear in a spec: they are Key Vault secret references, read at write
time (shared/secrets.py) and sent only inside the fluxConfiguration's write-only
`configurationProtectedSettings` (shared/desired.py says where each form goes).
"""

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shared.wire import WireModel

_SECRET_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
_SECRET_VERSION = re.compile(r"[0-9a-fA-F]{32}")
_K8S_NAME = re.compile(r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?")
_INLINE = (
    "secret values never go in a track spec: store it in Key Vault and give a reference, "
    "{example} (optionally with version)"
)


class SecretRef(WireModel):
    """A secret in the Key Vault arcwave reads (`ARCWAVE_KEYVAULT_URL`)."""

    secret: str
    """The secret's name in the vault."""
    version: str | None = None
    """A fixed version; by default the latest, read at each write."""

    @model_validator(mode="before")
    @classmethod
    def _never_inline(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise PydanticCustomError("secret_reference", _INLINE, {"example": "{secret: NAME}"})
        return data

    @field_validator("secret")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SECRET_NAME.fullmatch(value):
            raise PydanticCustomError(
                "secret_name",
                "'{value}' is not a Key Vault secret name: 1 to 127 letters, digits and '-'",
                {"value": value},
            )
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_VERSION.fullmatch(value):
            raise PydanticCustomError(
                "secret_version",
                "'{value}' is not a Key Vault secret version (32 hex characters)",
                {"value": value},
            )
        return value

    def describe(self) -> str:
        return f"{self.secret}" + (f"/{self.version}" if self.version else "")


class SshAuth(WireModel):
    """An SSH deploy key: `sshPrivateKey` (protected) and `sshKnownHosts`."""

    private_key: SecretRef
    known_hosts: str = Field(min_length=1)
    """The host keys to trust (`ssh-keyscan` output), public."""


class HttpsAuth(WireModel):
    """A user and a token (a personal access token): `httpsUser` and `httpsKey` (protected)."""

    user: str = Field(min_length=1)
    token: SecretRef


class ClientCertificate(WireModel):
    """Mutual TLS to an OCI registry: the certificate (public) and its private key."""

    certificate: str = Field(min_length=1)
    private_key: SecretRef


class SourceProvider(StrEnum):
    """Who vouches for the cluster when Flux fetches the source."""

    AZURE = "azure"
    """Workload identity: Azure DevOps for Git (`provider: Azure`), ACR for OCI."""
    GITHUB = "github"
    """A GitHub App configured on the cluster (Git only)."""
    GENERIC = "generic"
    """No provider: credentials, if any, come from the other fields."""


class SourceAuth(WireModel):
    """How Flux authenticates to the source; at most one way, plus an optional CA."""

    ssh: SshAuth | None = None
    https: HttpsAuth | None = None
    local_auth_ref: str | None = None
    """A secret already on each cluster, in the configuration's namespace."""
    provider: SourceProvider | None = None
    ca_certificate: str | None = Field(default=None, min_length=1)
    """A PEM CA certificate for a source served under a private CA."""
    client_certificate: ClientCertificate | None = None
    """OCI only: a client certificate for mutual TLS."""

    @field_validator("local_auth_ref")
    @classmethod
    def _secret_on_cluster(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 253 or not _K8S_NAME.fullmatch(value)):
            raise PydanticCustomError(
                "name",
                "'{value}' is not a Kubernetes secret name: lower-case letters, digits, '-' "
                "and '.', at most 253 characters",
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _one_way(self) -> "SourceAuth":
        given = [
            name
            for name, value in (
                ("ssh", self.ssh),
                ("https", self.https),
                ("localAuthRef", self.local_auth_ref),
                (
                    "provider",
                    self.provider if self.provider is not SourceProvider.GENERIC else None,
                ),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise PydanticCustomError(
                "one_way",
                "give one way to authenticate, not {given}",
                {"given": " and ".join(given)},
            )
        return self

    def secret_refs(self) -> dict[str, SecretRef]:
        """The protected setting each Key Vault secret of this block becomes."""
        refs: dict[str, SecretRef] = {}
        if self.ssh is not None:
            refs["sshPrivateKey"] = self.ssh.private_key
        if self.https is not None:
            refs["httpsKey"] = self.https.token
        if self.client_certificate is not None:
            refs["tlsPrivateKey"] = self.client_certificate.private_key
        return refs
