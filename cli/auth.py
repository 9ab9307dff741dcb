"""The credentials of a request: the headers that prove who calls.

    key            x-functions-key: KEY              (the Functions host checks it)
    token          Authorization: Bearer TOKEN       (App Service authentication checks it)
    entra          Authorization: Bearer <Entra ID token for the context's scope>

A context holding a key and a token (or an Entra sign-in) sends both headers: on Azure the
host wants the function key and App Service authentication the token, which says who the
caller is and which arcwave roles it holds.

An Entra token comes from azure-identity:

    --device-code                         DeviceCodeCredential (prompts on stderr)
    ARCWAVE_MANAGED_IDENTITY=1, or        ManagedIdentityCredential (AZURE_CLIENT_ID picks a
    AZURE_CLIENT_ID set (pipelines)       user-assigned identity), then AzureCliCredential
    otherwise                             AzureCliCredential (`az login`)

The token is asked for once per process and reused until shortly before it expires.
"""

import os
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from cli.config import Entra, Target
from cli.errors import EXIT_UNAUTHORISED, CliError

KEY_HEADER = "x-functions-key"
MANAGED_IDENTITY_ENV = "ARCWAVE_MANAGED_IDENTITY"
REFRESH_MARGIN_SECONDS = 120
"""A cached token is renewed this long before it expires."""


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


def wants_managed_identity(environ: Mapping[str, str]) -> bool:
    flag = environ.get(MANAGED_IDENTITY_ENV, "").strip().lower()
    return flag in ("1", "true", "yes") or bool(environ.get("AZURE_CLIENT_ID"))


def entra_credential(entra: Entra, environ: Mapping[str, str] | None = None) -> TokenCredential:
    """The azure-identity credential a context's Entra sign-in uses (see the module's doc)."""
    env = os.environ if environ is None else environ
    from azure.identity import (
        AzureCliCredential,
        ChainedTokenCredential,
        DeviceCodeCredential,
        ManagedIdentityCredential,
    )

    tenant = entra.tenant or env.get("AZURE_TENANT_ID") or None
    if entra.device_code:
        return DeviceCodeCredential(tenant_id=tenant, prompt_callback=_prompt)
    cli = AzureCliCredential(tenant_id=tenant) if tenant else AzureCliCredential()
    if wants_managed_identity(env):
        client_id = env.get("AZURE_CLIENT_ID") or None
        managed = (
            ManagedIdentityCredential(client_id=client_id)
            if client_id
            else (ManagedIdentityCredential())
        )
        return ChainedTokenCredential(managed, cli)
    return cli


def _prompt(verification_uri: str, user_code: str, expires_on: datetime) -> None:
    """The device code prompt, on stderr so that `-o json` output stays parseable."""
    print(
        f"To sign in, open {verification_uri} and enter the code {user_code} "
        f"(valid until {expires_on:%H:%M:%S}).",
        file=sys.stderr,
        flush=True,
    )


class Credentials:
    """Builds each request's auth headers for one target; Entra tokens are cached."""

    def __init__(self, target: Target, credential: TokenCredential | None = None) -> None:
        self.target = target
        self._credential = credential
        self._token: str | None = None
        self._expires_on = 0.0

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.target.key:
            headers[KEY_HEADER] = self.target.key
        bearer = self.target.token or (self._entra_token() if self.target.entra else None)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def _entra_token(self) -> str:
        entra = self.target.entra
        assert entra is not None
        if self._token and time.time() < self._expires_on - REFRESH_MARGIN_SECONDS:
            return self._token
        if self._credential is None:
            self._credential = entra_credential(entra)
        from azure.core.exceptions import ClientAuthenticationError

        try:
            token = self._credential.get_token(entra.scope)
        except ClientAuthenticationError as error:
            raise CliError(
                f"cannot get an Entra ID token for {entra.scope}: {_first_line(error)}; "
                "sign in with `az login` (or log in again with --device-code)",
                EXIT_UNAUTHORISED,
            ) from None
        self._token = str(token.token)
        self._expires_on = float(token.expires_on)
        return self._token


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "message", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
