"""Delivery ids: the one a delivery is deduplicated on, and the one a request is logged under.

Deliveries are deduplicated on an id **derived from the signed body**, whatever the provider
sends alongside: a delivery header is not covered by the signature, so someone replaying a
captured body can change it or leave it out. The provider's own id (GitHub's
`X-GitHub-Delivery`, GitLab's `Idempotency-Key`, Azure DevOps's event `id`, …) is kept as the
request id, for logs, when it looks like an id.
"""

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

from shared.webhooks.headers import Headers
from shared.webhooks.urls import repository_keys

_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:{}@=+-]{1,200}")


def plausible_id(value: str | None) -> str | None:
    """`value` stripped when it looks like an id (a GUID, a UUID, a token); else None."""
    value = value.strip() if value else None
    return value if value and _DELIVERY_ID.fullmatch(value) else None


def request_header(headers: Headers, *names: str) -> str | None:
    """The first of `names` present, when it looks like an id; for logs only, never an error."""
    return plausible_id(headers.value(*names))


def derived_delivery_id(
    provider: str,
    repository_urls: Iterable[str],
    ref_moves: Iterable[tuple[str, str, str]],
    pushed_at: datetime | None = None,
) -> str:
    """A stable id for a delivery from what its signed body says: the same body gives the same
    id, whoever sends it again and with whatever headers.

    `ref_moves` are `(ref, before, after)` triples; `pushed_at` is the provider's own time of
    the push when the body gives it (GitHub, Azure DevOps), which tells a new push of the same
    commits apart from a replay of an old one. The repository is identified by the sorted
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
    if pushed_at is not None:
        lines.append(f"at {pushed_at.isoformat()}")
    digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{provider}-{digest[:40]}"
