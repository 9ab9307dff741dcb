"""The fluxConfiguration arcwave writes: a track's configuration pinned to one commit.

It is the whole desired state (PUT, never PATCH), so writing it twice is harmless and a restore
is the same write with the previous commit. `suspend` is always false: a configuration someone
suspended by hand is resumed by arcwave's next write, and reported as drift before that.
"""

from datetime import timedelta
from typing import Any

from shared.revision import OciRef
from shared.trackspec import Kustomization, TrackSpec

FLUX_CONFIGURATIONS = "Microsoft.KubernetesConfiguration/fluxConfigurations"


OCI_API_VERSION = "2025-04-01"
"""The first fluxConfigurations api-version with OCIRepository sources."""


def desired_configuration(spec: TrackSpec, revision: str) -> dict[str, Any]:
    """The PUT body (ARM wire JSON) for `spec.configuration` pinned to `revision`: a commit
    for a Git source; for an OCI source its digest when known, else its tag."""
    configuration = spec.configuration
    source: dict[str, Any] = {
        "url": spec.source.url,
        "timeoutInSeconds": _seconds(configuration.timeout),
        "syncIntervalInSeconds": _seconds(configuration.sync_interval),
    }
    if spec.source.is_oci:
        ref = OciRef.parse(revision)
        source["repositoryRef"] = {"digest": ref.digest} if ref.digest else {"tag": ref.tag}
        kind, section = "OCIRepository", "ociRepository"
    else:
        source["repositoryRef"] = {"branch": spec.source.branch, "commit": revision}
        kind, section = "GitRepository", "gitRepository"
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
    its writable properties only, without read-only kustomization names."""
    props = configuration.get("properties") or {}
    kept = {k: props[k] for k in WRITABLE_PROPERTIES if props.get(k) is not None}
    if isinstance(kept.get("kustomizations"), dict):
        kept["kustomizations"] = {
            name: {k: v for k, v in (body or {}).items() if k != "name"}
            for name, body in kept["kustomizations"].items()
        }
    return {"properties": kept}


def is_oci_body(body: dict[str, Any]) -> bool:
    kind: object = body.get("properties", {}).get("sourceKind")
    return kind == "OCIRepository"


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
