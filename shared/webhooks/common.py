"""What every provider's parser shares: headers, secrets, constant-time checks, JSON and errors.

Secrets are only ever used as HMAC keys or compared through their SHA-256 digests; they never
reach an exception message, a log line or a repr.
"""

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs

import pydantic_core
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from shared.problems import Problem, problems_from
from shared.webhooks.model import (
    BRANCH_DELETED,
    NOT_A_BRANCH,
    TAG_PUSH,
    ZERO_SHA,
    Ignored,
    PayloadError,
    SignatureError,
    WebhookConfigError,
    derived_delivery_id,
)

MAX_BODY_BYTES = 25 * 1024 * 1024
"""GitHub's payload cap; larger bodies are refused before any parsing."""

Secret = str | SecretStr
Secrets = Secret | Sequence[Secret] | None
"""One secret, several (to rotate: old and new both verify), or None when not configured.

`Settings.webhook_secret(provider)` and `Settings.flux_hmac_key` can be passed as they are.
"""

ModelT = TypeVar("ModelT", bound=BaseModel)

_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:{}@=+-]{1,200}")


class Headers(Mapping[str, str]):
    """A case-insensitive, read-only view of request headers."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._items = {str(k).lower(): str(v) for k, v in headers.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def first(self, *names: str) -> tuple[str, str] | None:
        """The first of `names` present, with its value stripped: `(name, value)`."""
        for name in names:
            value = self._items.get(name.lower())
            if value is not None:
                return name, value.strip()
        return None

    def value(self, *names: str) -> str | None:
        found = self.first(*names)
        return found[1] if found else None


def secret_list(provider: str, secrets: Secrets) -> list[bytes]:
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


def verify_hmac(
    body: bytes, keys: Sequence[bytes], header: str, given: str | None, prefix: str = ""
) -> None:
    """Check `given` (`<prefix><hex HMAC-SHA256(key, body)>`) against each key in constant time."""
    if given is None:
        raise SignatureError(f"missing {header} header")
    if prefix:
        if not given.lower().startswith(prefix):
            raise SignatureError(f"{header} is not '{prefix}<hex digest>'")
        given = given[len(prefix) :]
    digest = given.strip().lower().encode("utf-8", "replace")
    matched = False
    for key in keys:
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
        matched |= hmac.compare_digest(expected, digest)
    if not matched:
        raise SignatureError(f"{header} does not match the body")


def verify_token(keys: Sequence[bytes], header: str, given: str | None) -> None:
    """Check a plain shared token; digests are compared so neither content nor length leaks.

    HTTP strips whitespace around header values, so the configured secret is stripped too.
    """
    if given is None:
        raise SignatureError(f"missing {header} header")
    digest = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(hashlib.sha256(key.strip()).digest(), digest)
    if not matched:
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
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(hashlib.sha256(key).digest(), digest)
    if not matched:
        raise SignatureError("Authorization password does not match the configured secret")


def load_json_object(what: str, headers: Headers, body: bytes) -> dict[str, Any]:
    """The body as a JSON object (or the `payload=` field of a form-encoded body)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise PayloadError(what, [Problem("body", "body", "the body must be bytes")])
    raw = bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadError(what, [Problem("body", "too_large", "the body is over 25 MiB")])
    content_type = (headers.value("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        raw = _form_payload(what, raw)
    if not raw.strip():
        raise PayloadError(what, [Problem("body", "empty", "the body is empty")])
    try:
        value = pydantic_core.from_json(raw, allow_inf_nan=False)
    except ValueError as error:
        raise PayloadError(
            what, [Problem("body", "json_invalid", f"not JSON: {_short(str(error))}")]
        ) from None
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise PayloadError(
            what, [Problem("body", "not_an_object", f"expected a JSON object, got {kind}")]
        )
    return value


def _form_payload(what: str, raw: bytes) -> bytes:
    try:
        fields = parse_qs(raw.decode("utf-8"), strict_parsing=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        fields = {}
    payload = fields.get("payload")
    if not payload or len(payload) != 1:
        raise PayloadError(
            what, [Problem("body.payload", "missing", "a form body needs one 'payload' field")]
        )
    return payload[0].encode("utf-8", "surrogatepass")


def validate(what: str, model: type[ModelT], data: Any, prefix: tuple[str, ...] = ()) -> ModelT:
    """`model` validated from `data`; every problem as a `PayloadError` located by field path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise PayloadError(
            what, [_bounded(p) for p in problems_from(error, prefix=prefix)]
        ) from None


def _bounded(problem: Problem) -> Problem:
    value = problem.input
    if isinstance(value, str):
        value = _short(value)
    elif not (value is None or isinstance(value, bool | int | float)):
        value = type(value).__name__
    return Problem(problem.loc, problem.type, _short(problem.msg, 300), value)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def header_problem(what: str, header: str, msg: str) -> PayloadError:
    return PayloadError(what, [Problem(f"headers.{header}", "header", msg)])


def delivery_header(what: str, headers: Headers, *names: str) -> str | None:
    """The first of `names` present, checked to be a plausible id (a GUID, a UUID, a token)."""
    found = headers.first(*names)
    if found is None or not found[1]:
        return None
    name, value = found
    if not _DELIVERY_ID.fullmatch(value):
        raise header_problem(what, name, "not a delivery id (letters, digits, '-', ≤ 200)")
    return value


def delivery_value(what: str, loc: str, value: str | None) -> str | None:
    """A delivery id read from the body, checked like `delivery_header`."""
    if value is None or not value.strip():
        return None
    if not _DELIVERY_ID.fullmatch(value.strip()):
        raise PayloadError(
            what, [Problem(loc, "delivery_id", "not a delivery id (letters, digits, '-', ≤ 200)")]
        )
    return value.strip()


def request_header(headers: Headers, *names: str) -> str | None:
    """The first of `names` present when it looks like an id; for logs only, so never an error."""
    value = headers.value(*names)
    return value if value and _DELIVERY_ID.fullmatch(value) else None


def event_header(what: str, headers: Headers, *names: str) -> str:
    """The event type from the first of `names` present; a `PayloadError` when none is."""
    found = headers.first(*names)
    if found is None or not found[1]:
        raise header_problem(what, names[0], f"missing {names[0]} header: which event is this?")
    return found[1]


def branch_of(ref: str, after: str, deleted: bool = False) -> str | Ignored:
    """The branch a ref update moved, or why it is ignored (tag, deletion, not a branch)."""
    if ref.startswith("refs/tags/"):
        return Ignored(TAG_PUSH)
    if not ref.startswith("refs/heads/") or ref == "refs/heads/":
        return Ignored(NOT_A_BRANCH)
    if deleted or after == ZERO_SHA:
        return Ignored(BRANCH_DELETED)
    return ref[len("refs/heads/") :]


def previous(before: str) -> str | None:
    """The commit before the push, None for a new branch."""
    return None if before == ZERO_SHA else before


def derived_or(
    delivery: str | None, provider: str, urls: Sequence[str], ref: str, before: str, after: str
) -> str:
    """`delivery` when the provider sent one, else the id derived from the signed body."""
    return delivery or derived_delivery_id(provider, urls, [(ref, before, after)])


def require_urls(what: str, urls: tuple[str, ...], loc: str) -> tuple[str, ...]:
    """`urls`, or a `PayloadError` when the payload names no repository URL at all."""
    if not urls:
        raise PayloadError(what, [Problem(loc, "missing", "the payload gives no repository URL")])
    return urls


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty values in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for value in values:
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return tuple(seen)


def changed_files(commits: Sequence["CommitFiles"]) -> frozenset[str] | None:
    """The union of the files the commits touched; None if any commit does not list them."""
    files: set[str] = set()
    for commit in commits:
        if commit.added is None or commit.modified is None or commit.removed is None:
            return None
        files.update(commit.added, commit.modified, commit.removed)
    return frozenset(files)


class PayloadModel(BaseModel):
    """A provider payload: strict JSON types, unknown fields ignored, frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class CamelPayloadModel(PayloadModel):
    """A payload with camelCase wire names (Azure DevOps, Flux), snake_case fields here."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, strict=True, alias_generator=to_camel, validate_by_name=True
    )


class CommitFiles(PayloadModel):
    """The per-commit file lists GitHub, GitLab and Gitea send."""

    added: list[str] | None = None
    modified: list[str] | None = None
    removed: list[str] | None = None
