"""Proving a delivery comes from someone who knows a configured secret.

Every check works on the raw body bytes as received (before any parsing) and compares in
constant time: HMAC digests directly, plain tokens and passwords through their SHA-256 digests so
neither content nor length leaks. Every configured key is tried (old and new both verify while
a secret is rotated), with no early exit. Secrets are only ever used as HMAC keys or compared
through their digests; they never reach an exception message, a log line or a repr.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import SecretStr

from shared.webhooks.errors import SignatureError, WebhookConfigError
from shared.webhooks.headers import Headers

Secret = str | SecretStr
Secrets = Secret | Sequence[Secret] | None
"""One secret, several (to rotate: old and new both verify), or None when not configured.

`Settings.webhook_secret(provider)` and `Settings.flux_hmac_key` can be passed as they are.
"""

Authenticator = Callable[[Headers, bytes, Sequence[bytes]], None]
"""Checks one delivery (headers, raw body) against the configured keys; `SignatureError` if not."""


def secret_keys(provider: str, secrets: Secrets) -> list[bytes]:
    """The configured secrets as bytes; `WebhookConfigError` when there is none."""
    if isinstance(secrets, str | SecretStr):
        candidates: Iterable[object] = [secrets]
    elif secrets is None:
        candidates = []
    else:
        candidates = secrets
    texts = [s.get_secret_value() if isinstance(s, SecretStr) else s for s in candidates]
    keys = [s.encode("utf-8") for s in texts if isinstance(s, str) and s.strip()]
    if not keys:
        raise WebhookConfigError(f"no webhook secret is configured for provider '{provider}'")
    return keys


def _any_equal(expected: Iterable[bytes], given: bytes) -> bool:
    """Whether `given` equals any of `expected`: each compared in constant time, none skipped."""
    matched = False
    for candidate in expected:
        matched |= hmac.compare_digest(candidate, given)
    return matched


def verify_hmac(
    body: bytes,
    keys: Sequence[bytes],
    header: str,
    given: str | None,
    prefix: str = "",
    algorithm: Callable[..., Any] = hashlib.sha256,
) -> None:
    """Check `given` (`<prefix><hex HMAC(key, body)>`) against each key in constant time."""
    if given is None:
        raise SignatureError(f"missing {header} header")
    if prefix:
        if not given.lower().startswith(prefix):
            raise SignatureError(f"{header} is not '{prefix}<hex digest>'")
        given = given[len(prefix) :]
    digest = given.strip().lower().encode("utf-8", "replace")
    expected = (hmac.new(key, body, algorithm).hexdigest().encode("ascii") for key in keys)
    if not _any_equal(expected, digest):
        raise SignatureError(f"{header} does not match the body")


def verify_token(keys: Sequence[bytes], header: str, given: str | None) -> None:
    """Check a plain shared token; digests are compared so neither content nor length leaks.

    HTTP strips whitespace around header values, so the configured secret is stripped too.
    """
    if given is None:
        raise SignatureError(f"missing {header} header")
    digest = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
    if not _any_equal((hashlib.sha256(key.strip()).digest() for key in keys), digest):
        raise SignatureError(f"{header} does not match the configured secret")


def verify_basic_auth(keys: Sequence[bytes], authorization: str | None) -> None:
    """Check `Authorization: Basic base64(user:password)`: the password must be a secret."""
    if authorization is None:
        raise SignatureError("missing Authorization header")
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise SignatureError("Authorization is not Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("Authorization is not valid base64") from None
    _, colon, password = decoded.partition(b":")
    if not colon:
        raise SignatureError("Authorization has no password")
    digest = hashlib.sha256(password).digest()
    if not _any_equal((hashlib.sha256(key).digest() for key in keys), digest):
        raise SignatureError("Authorization password does not match the configured secret")


def hmac_signature(header: str, prefix: str = "sha256=") -> Authenticator:
    """`<header>: <prefix><hex HMAC-SHA256(secret, raw body)>` (GitHub, Bitbucket)."""

    def verify(headers: Headers, body: bytes, keys: Sequence[bytes]) -> None:
        verify_hmac(body, keys, header, headers.value(header), prefix)

    return verify


def shared_token(header: str) -> Authenticator:
    """The secret itself, sent verbatim in `header` (GitLab); it proves the sender, not the body."""

    def verify(headers: Headers, body: bytes, keys: Sequence[bytes]) -> None:
        verify_token(keys, header, headers.value(header))

    return verify


def basic_auth(headers: Headers, body: bytes, keys: Sequence[bytes]) -> None:
    """`Authorization: Basic` with a secret as the password (Azure DevOps); TLS guards the body."""
    verify_basic_auth(keys, headers.value("Authorization"))
