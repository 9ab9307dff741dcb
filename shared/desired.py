"""The fluxConfiguration arcwave writes: a track's configuration pinned to one commit.

Two writes, both idempotent:

- a **PUT** of the whole desired state (`desired_configuration`, plus `with_secrets` for the
  protected settings the track's `source.auth` declares) when arcwave creates the
  configuration or the track's configuration changed since its last write there;
- a **PATCH** of the source reference alone (`pin_patch`) when only the pin moves, so
  write-only protected settings and anything arcwave does not own survive.

`shape` tells the two apart: a fingerprint of everything but the pin (and the versions of the
secrets, so a rotated secret is written again). `suspend` is always false: a configuration
someone suspended by hand is resumed by arcwave's next full write, and reported as drift before
that.

Where `source.auth` goes (fluxConfigurations 2024-11-01 / 2025-04-01): `ssh` → protected
`sshPrivateKey` and `gitRepository.sshKnownHosts`; `https` → `gitRepository.httpsUser` and
protected `httpsKey`; `localAuthRef` → `<source>.localAuthRef`; `provider: azure` →
`gitRepository.provider: Azure` or `ociRepository.useWorkloadIdentity`; `caCertificate` →
`gitRepository.httpsCACert` or `ociRepository.tlsConfig.caCertificate`; `clientCertificate`
→ `ociRepository.tlsConfig`. Certificates, keys and known hosts travel base64-encoded.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from shared.revision import OciRef
from shared.secrets import Secret
from shared.sourceauth import SourceProvider
from shared.trackspec import Kustomization, TrackSpec

FLUX_CONFIGURATIONS = "Microsoft.KubernetesConfiguration/fluxConfigurations"

API_VERSION = "2025-04-01"
"""The one fluxConfigurations api-version arcwave speaks (that of its SDK)."""

_PROVIDERS = {SourceProvider.AZURE: "Azure", SourceProvider.GITHUB: "GitHub"}


def desired_configuration(spec: TrackSpec, revision: str) -> dict[str, Any]:
    """The PUT body (ARM wire JSON) for `spec.configuration` pinned to `revision`: a commit
    for a Git source; for an OCI source its digest when known, else its tag."""
    configuration = spec.configuration
    source: dict[str, Any] = {
        "url": spec.source.url,
        "timeoutInSeconds": _seconds(configuration.timeout),
        "syncIntervalInSeconds": _seconds(configuration.sync_interval),
    }
    kind, section = source_section(spec)
    source["repositoryRef"] = _pin(spec, revision)
    source |= _public_auth(spec)
    return {
        "properties": {
            "scope": configuration.scope.value,
            "namespace": configuration.namespace,
            "sourceKind": kind,
            "suspend": False,
            section: source,
            "kustomizations": {
                name: _kustomization(k) for name, k in configuration.kustomizations.items()
            },
        }
    }


WRITABLE_PROPERTIES = (
    "scope",
    "namespace",
    "sourceKind",
    "suspend",
    "gitRepository",
    "bucket",
    "azureBlob",
    "ociRepository",
    "kustomizations",
    "waitForReconciliation",
    "reconciliationWaitDuration",
)
"""What a PUT may carry, as ARM returns it. Statuses, compliance and provisioning are
read-only; `configurationProtectedSettings` is write-only and never returned."""


def restorable(configuration: dict[str, Any]) -> dict[str, Any]:
    """The PUT body that puts back a fluxConfiguration as ARM (or Resource Graph) returned it:
    its writable properties only, without read-only kustomization names, and without a TLS
    private key should Azure ever return one (arcwave keeps no secret)."""
    props = configuration.get("properties") or {}
    kept = {k: props[k] for k in WRITABLE_PROPERTIES if props.get(k) is not None}
    tls = (kept.get("ociRepository") or {}).get("tlsConfig")
    if isinstance(tls, dict) and "privateKey" in tls:
        kept["ociRepository"] = {
            **kept["ociRepository"],
            "tlsConfig": {k: v for k, v in tls.items() if k != "privateKey"},
        }
    if isinstance(kept.get("kustomizations"), dict):
        kept["kustomizations"] = {
            name: {k: v for k, v in (body or {}).items() if k != "name"}
            for name, body in kept["kustomizations"].items()
        }
    return {"properties": kept}


def source_section(spec: TrackSpec) -> tuple[str, str]:
    """The `sourceKind` and the properties section of the track's source."""
    if spec.source.is_oci:
        return "OCIRepository", "ociRepository"
    return "GitRepository", "gitRepository"


def _pin(spec: TrackSpec, revision: str, *, patch: bool = False) -> dict[str, Any]:
    if spec.source.is_oci:
        ref = OciRef.parse(revision)
        pin: dict[str, Any] = {"digest": ref.digest} if ref.digest else {"tag": ref.tag}
        if patch:  # a merge patch keeps what it does not name: clear the other way to pin
            pin.setdefault("digest", None)
            pin.setdefault("tag", None)
        return pin
    return {"branch": spec.source.branch, "commit": revision}


def pin_patch(spec: TrackSpec, revision: str) -> dict[str, Any]:
    """The PATCH body that moves only the pin of an existing configuration."""
    _, section = source_section(spec)
    return {"properties": {section: {"repositoryRef": _pin(spec, revision, patch=True)}}}


def _public_auth(spec: TrackSpec) -> dict[str, Any]:
    """The readable fields `source.auth` sets in the source section (no secret among them)."""
    auth = spec.source.auth
    if auth is None:
        return {}
    fields: dict[str, Any] = {}
    if auth.local_auth_ref is not None:
        fields["localAuthRef"] = auth.local_auth_ref
    if spec.source.is_oci:
        if auth.provider is SourceProvider.AZURE:
            fields["useWorkloadIdentity"] = True
        tls: dict[str, Any] = {}
        if auth.ca_certificate is not None:
            tls["caCertificate"] = _b64(auth.ca_certificate)
        if auth.client_certificate is not None:
            tls["clientCertificate"] = _b64(auth.client_certificate.certificate)
        if tls:
            fields["tlsConfig"] = tls
        return fields
    if auth.provider in _PROVIDERS:
        fields["provider"] = _PROVIDERS[auth.provider]
    if auth.ssh is not None:
        fields["sshKnownHosts"] = _b64(auth.ssh.known_hosts)
    if auth.https is not None:
        fields["httpsUser"] = auth.https.user
    if auth.ca_certificate is not None:
        fields["httpsCACert"] = _b64(auth.ca_certificate)
    return fields


def with_secrets(
    body: dict[str, Any], spec: TrackSpec, secrets: Mapping[str, Secret]
) -> dict[str, Any]:
    """`body` with the track's secrets where Azure takes them (`secrets`: by
    `SourceAuth.secret_refs()` key). The result must never be stored or logged."""
    if not secrets:
        return body
    props = dict(body["properties"])
    protected = {k: _b64(secrets[k].value) for k in ("sshPrivateKey", "httpsKey") if k in secrets}
    if protected:
        props["configurationProtectedSettings"] = protected
    if "tlsPrivateKey" in secrets:
        oci = dict(props["ociRepository"])
        oci["tlsConfig"] = {
            **oci.get("tlsConfig", {}),
            "privateKey": _b64(secrets["tlsPrivateKey"].value),
        }
        props["ociRepository"] = oci
    return {**body, "properties": props}


def shape(spec: TrackSpec, secrets: Mapping[str, Secret]) -> str:
    """A fingerprint of what a PUT would write, but the pin: the same shape means a pin
    change is a PATCH. Secret versions count (a rotated secret is written again); values do
    not (a fingerprint must not carry them)."""
    body = desired_configuration(spec, "0" * 40 if not spec.source.is_oci else "v0")
    _, section = source_section(spec)
    body["properties"][section].pop("repositoryRef")
    versions = {k: v.version for k, v in sorted(secrets.items())}
    text = json.dumps({"body": body, "secrets": versions}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def configuration_id(cluster_id: str, configuration_name: str) -> str:
    """The ARM id of a fluxConfiguration under a connected cluster."""
    return f"{cluster_id.rstrip('/')}/providers/{FLUX_CONFIGURATIONS}/{configuration_name}"


def cluster_id_of(configuration_id_: str) -> str:
    """The connected cluster a fluxConfiguration id belongs to (ARM ids ignore case)."""
    index = configuration_id_.lower().find("/providers/microsoft.kubernetesconfiguration/")
    if index <= 0:
        raise ValueError(f"'{configuration_id_}' is not a fluxConfiguration id")
    return configuration_id_[:index]


def _kustomization(kustomization: Kustomization) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": kustomization.path,
        "dependsOn": list(kustomization.depends_on),
        "timeoutInSeconds": _seconds(kustomization.timeout),
        "syncIntervalInSeconds": _seconds(kustomization.sync_interval),
        "prune": kustomization.prune,
        "force": kustomization.force,
        "wait": kustomization.wait,
    }
    if kustomization.retry_interval is not None:
        body["retryIntervalInSeconds"] = _seconds(kustomization.retry_interval)
    if kustomization.substitute:
        body["postBuild"] = {"substitute": dict(kustomization.substitute)}
    return body


def _seconds(value: timedelta) -> int:
    return max(1, round(value.total_seconds()))
