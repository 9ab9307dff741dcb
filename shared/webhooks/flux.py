"""Flux notification-controller events, as a `generic-hmac` Provider POSTs them.

```yaml
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: arcwave, namespace: flux-system}
spec:
  type: generic-hmac
  address: https://<app>/api/flux/events
  secretRef: {name: arcwave-flux-hmac}      # key `token`: the HMAC key
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: arcwave, namespace: flux-system}
spec:
  providerRef: {name: arcwave}
  eventSeverity: info
  eventSources: [{kind: Kustomization, name: "*"}, {kind: GitRepository, name: "*"}]
  eventMetadata: {clusterId: <the connected cluster's ARM resource id>}
```

- Signature: `X-Signature: <hash>=<hex HMAC(key, raw body)>`; notification-controller uses
  sha256; sha224, sha384 and sha512 are accepted too, sha1 is refused.
- The cluster is not named by Flux itself: arcwave's Alert stamps it with `eventMetadata`
  under `clusterId` (`CLUSTER_ID_KEY`); an event without it is a `PayloadError`.
- The revision comes from `metadata.revision` (notification-controller strips the API group
  prefix) or `metadata["<group>/revision"]` (as controllers send it), in either
  `branch/sha` or `branch@sha1:sha` form; a revision that names no Git commit (an OCI digest)
  gives `revision=None`. Events are hints that wake a wave early: the verdict always comes from
  ARM / Resource Graph state.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from shared.revision import Revision, RevisionError
from shared.webhooks.body import CamelPayloadModel, load_json_object, validate
from shared.webhooks.errors import SignatureError, payload_error
from shared.webhooks.headers import Headers
from shared.webhooks.signatures import Secrets, secret_keys, verify_hmac

PROVIDER = "flux"
WHAT = "Flux event"
SIGNATURE_HEADER = "X-Signature"
CLUSTER_ID_KEY = "clusterId"
"""The `eventMetadata` key arcwave's Flux Alert sets to the connected cluster's resource id."""

_HASHES = {"sha224": hashlib.sha224, "sha256": hashlib.sha256, "sha384": hashlib.sha384}
_HASHES["sha512"] = hashlib.sha512


class _Object(CamelPayloadModel):
    kind: str
    name: str
    namespace: str | None = None
    api_version: str | None = None


class _Event(CamelPayloadModel):
    involved_object: _Object
    severity: str
    reason: str
    message: str
    metadata: dict[str, str] | None = None
    timestamp: str | None = None
    reporting_controller: str | None = None


@dataclass(frozen=True, slots=True)
class FluxEvent:
    """One notification about a Flux object on one cluster."""

    cluster_id: str
    revision: Revision | None
    reason: str
    severity: str
    kustomization: str | None
    """The Kustomization's name when the event is about one, else None."""
    message: str
    kind: str
    name: str
    namespace: str | None
    reporting_controller: str | None = None
    timestamp: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def verify_flux_signature(headers: Headers, body: bytes, secrets: Secrets) -> None:
    """Check `X-Signature: <hash>=<hex>` over the raw body with every configured key."""
    keys = secret_keys(PROVIDER, secrets)
    given = headers.value(SIGNATURE_HEADER)
    if given is None:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    name, sep, hex_digest = given.partition("=")
    algorithm = _HASHES.get(name.strip().lower())
    if not sep or algorithm is None:
        raise SignatureError(f"{SIGNATURE_HEADER} is not '<sha256|sha384|sha512>=<hex digest>'")
    verify_hmac(body, keys, SIGNATURE_HEADER, hex_digest, algorithm=algorithm)


def parse_flux_event(headers: Mapping[str, str], body: bytes, secrets: Secrets) -> FluxEvent:
    """Verify and read one event; raises `SignatureError`, `PayloadError`, `WebhookConfigError`."""
    view = Headers(headers)
    verify_flux_signature(view, body, secrets)
    event = validate(WHAT, _Event, load_json_object(WHAT, view, body))
    metadata = event.metadata or {}
    cluster_id = metadata.get(CLUSTER_ID_KEY, "").strip()
    if not cluster_id:
        raise payload_error(
            WHAT,
            f"metadata.{CLUSTER_ID_KEY}",
            "missing",
            f"the event does not name its cluster: set '{CLUSTER_ID_KEY}' in the "
            "Alert's spec.eventMetadata",
        )
    obj = event.involved_object
    return FluxEvent(
        cluster_id=cluster_id,
        revision=_revision(metadata, obj.api_version),
        reason=event.reason,
        severity=event.severity.strip().lower(),
        kustomization=obj.name if obj.kind == "Kustomization" else None,
        message=event.message,
        kind=obj.kind,
        name=obj.name,
        namespace=obj.namespace,
        reporting_controller=event.reporting_controller,
        timestamp=event.timestamp,
    )


def _revision(metadata: Mapping[str, str], api_version: str | None) -> Revision | None:
    group = (api_version or "").partition("/")[0]
    candidates = ["revision"]
    if group:
        candidates.append(f"{group}/revision")
    candidates += sorted(k for k in metadata if k.endswith("/revision"))
    for key in candidates:
        text = metadata.get(key)
        if text:
            try:
                return Revision.parse(text)
            except RevisionError:
                return None
    return None
