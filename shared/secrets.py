"""The secrets a track's source needs, read from Key Vault when a configuration is written.

A track references secrets by name (`source.auth`, shared/sourceauth.py); arcwave reads them
with its own identity from the vault in `ARCWAVE_KEYVAULT_URL` (azure-keyvault-secrets) right
before a write, and holds them only for that write. Nothing here logs, stores or repeats a
value: errors name the secret and the vault, never its content.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from shared.errors import Forbidden, NotFound, PermanentError, TransientError, one_line
from shared.sourceauth import SecretRef

log = logging.getLogger("arcwave.secrets")


@dataclass(frozen=True)
class Secret:
    """A secret's value and the version it was read at (versions are not secret)."""

    value: str
    version: str

    def __repr__(self) -> str:
        return f"Secret(version={self.version!r})"


class Secrets(Protocol):
    def read(self, ref: SecretRef) -> Secret: ...


class NoVault:
    """No `ARCWAVE_KEYVAULT_URL`: a track that references a secret cannot be written."""

    def read(self, ref: SecretRef) -> Secret:
        raise PermanentError(
            f"the track's source.auth references Key Vault secret '{ref.secret}' but "
            "ARCWAVE_KEYVAULT_URL is not set: set it to the vault that holds the secret"
        )


class KeyVaultSecrets:
    """Secrets from one Key Vault, read with the app's identity."""

    def __init__(
        self,
        vault_url: str,
        credential: TokenCredential,
        *,
        verify_challenge_resource: bool = True,
        connection_verify: str | bool = True,
    ) -> None:
        from azure.keyvault.secrets import SecretClient

        self.vault_url = vault_url
        self._client = SecretClient(
            vault_url,
            credential,
            verify_challenge_resource=verify_challenge_resource,
            connection_verify=connection_verify,
        )

    def read(self, ref: SecretRef) -> Secret:
        where = f"Key Vault secret '{ref.describe()}' in {self.vault_url}"
        try:
            bundle = self._client.get_secret(ref.secret, ref.version)
        except ResourceNotFoundError:
            raise NotFound(
                f"{where} does not exist: create it, or fix the name in the track's source.auth"
            ) from None
        except ClientAuthenticationError as error:
            raise Forbidden(f"{where} could not be read: {_status(error)}") from None
        except HttpResponseError as error:
            if error.status_code in (401, 403):
                raise Forbidden(
                    f"{where} could not be read ({error.status_code}): grant arcwave's identity "
                    "the Key Vault Secrets User role on the vault (docs/deploy.md)"
                ) from None
            raise TransientError(f"{where} could not be read: {_status(error)}") from None
        except (ServiceRequestError, ServiceResponseError):
            raise TransientError(f"{where} could not be read: the vault did not answer") from None
        if bundle.value is None:
            raise NotFound(f"{where} has no value")
        return Secret(value=bundle.value, version=(bundle.properties.version or ""))


def _status(error: HttpResponseError) -> str:
    code = getattr(error.error, "code", None) if error.error is not None else None
    return one_line(f"HTTP {error.status_code}" + (f" ({code})" if code else ""))
