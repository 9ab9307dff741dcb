"""Delivery ids: the one a delivery is deduped on, and the one a request is logged under.

A provider that keeps an id across retries sends it in a header (GitHub, GitLab) or the body
(Azure DevOps); it is checked to look like an id. Otherwise the id is derived from what the
signed body says, so a redelivery of the same body dedupes.
"""

import hashlib
import re
from collections.abc import Iterable

from shared.webhooks.errors import payload_error
from shared.webhooks.headers import Headers, header_problem
from shared.webhooks.urls import repository_keys

_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:{}@=+-]{1,200}")
_NOT_AN_ID = "not a delivery id (letters, digits, '-', ≤ 200)"


def delivery_header(what: str, headers: Headers, *names: str) -> str | None:
    """The first of `names` present, checked to be a plausible id (a GUID, a UUID, a token)."""
    found = headers.first(*names)
    if found is None or not found[1]:
        return None
    name, value = found
    if not _DELIVERY_ID.fullmatch(value):
        raise header_problem(what, name, _NOT_AN_ID)
    return value


def delivery_value(what: str, loc: str, value: str | None) -> str | None:
    """A delivery id read from the body, checked like `delivery_header`."""
    if value is None or not value.strip():
        return None
    if not _DELIVERY_ID.fullmatch(value.strip()):
        raise payload_error(what, loc, "delivery_id", _NOT_AN_ID)
    return value.strip()


def request_header(headers: Headers, *names: str) -> str | None:
    """The first of `names` present when it looks like an id; for logs only, so never an error."""
    value = headers.value(*names)
    return value if value and _DELIVERY_ID.fullmatch(value) else None


def derived_delivery_id(
    provider: str, repository_urls: Iterable[str], ref_moves: Iterable[tuple[str, str, str]]
) -> str:
    """A stable id for a delivery from what its signed body says: the same push gives the same id.

    `ref_moves` are `(ref, before, after)` triples. The repository is identified by the sorted
    canonical keys of its URLs (raw lower-cased URLs when none normalise), so the id does not
    depend on the order the payload lists URLs in.
    """
    urls = list(repository_urls)
    keys = sorted(repository_keys(urls)) or sorted({u.strip().lower() for u in urls})
    lines = [
        provider,
        *keys,
        "--",
        *(f"{ref} {before}..{after}" for ref, before, after in ref_moves),
    ]
    digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{provider}-{digest[:40]}"
