"""The fleet gateway: everything arcwave reads from and writes to Azure about clusters.

- discover: the Arc clusters a track's fleet selection names, through Resource Graph
  (subscriptions in groups of at most 300, `$top` 1000 with `$skipToken` paging, the per-user
  quota headers respected);
- observe: the health of many clusters at once (fluxConfigurations from
  `kubernetesconfigurationresources` plus connectivity), in chunks of ids;
- read_health: one just-applied cluster by direct GET (Resource Graph lags ARM);
- read_configurations: many clusters' configurations as ARM returns them (direct GETs for a
  few, Resource Graph for many);
- apply / remove: PUT the whole desired configuration (repeats are harmless), or DELETE it,
  each write taking a token from its subscription's bucket first.

Every failure leaves as one of `shared.errors`' classes with an operator-readable message.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from shared import queries
from shared.adapters.arm import client_options, credential_for, map_arm_error
from shared.cluster import Cluster, Connectivity
from shared.desired import (
    FLUX_CONFIGURATIONS,
    OCI_API_VERSION,
    cluster_id_of,
    configuration_id,
    is_oci_body,
)
from shared.errors import ArcwaveError, NotFound, PermanentError, Throttled, TransientError
from shared.health import FluxStatus, Health, assess
from shared.ratelimit import BucketRegistry
from shared.settings import Settings
from shared.trackspec import FleetSelection
from shared.wire import WireModel

log = logging.getLogger("arcwave.fleet")

SUBSCRIPTIONS_PER_QUERY = 300
ROWS_PER_PAGE = 1000
IDS_PER_QUERY = 200
GRAPH_ATTEMPTS = 4
WRITE_ATTEMPTS = 6
DIRECT_READ_LIMIT = 20
"""Up to this many clusters are read one by one (fresh); more go through Resource Graph."""

_CLUSTER_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.Kubernetes/connectedClusters/(?P<name>[^/]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ClusterRef:
    """The parts of a connected cluster's ARM id the SDK calls need."""

    id: str
    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def parse(cls, cluster_id: str) -> "ClusterRef":
        match = _CLUSTER_ID.fullmatch(cluster_id.rstrip("/"))
        if not match:
            raise PermanentError(f"'{cluster_id}' is not an Arc connected cluster id")
        return cls(cluster_id, match["sub"], match["rg"], match["name"])


class WriteOutcome(WireModel):
    """What happened to one cluster's write."""

    cluster_id: str
    ok: bool
    error: str | None = None
    """`NotFound`, `Invalid`, `Forbidden`, `Throttled` or `Transient` when not ok."""
    message: str
    waited_seconds: float = 0.0


class FleetGateway:
    """ARM and Resource Graph access for one app instance (thread-safe)."""

    def __init__(
        self,
        settings: Settings,
        *,
        credential: TokenCredential | None = None,
        buckets: BucketRegistry | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._credential = credential or credential_for(settings)
        self._buckets = buckets or BucketRegistry(
            settings.arm_writes_per_second, settings.arm_write_burst
        )
        self._sleep = sleep
        self._graph = ResourceGraphClient(self._credential, **client_options(settings))
        self._clients: dict[str, SourceControlConfigurationClient] = {}

    # -- discovery ---------------------------------------------------------------------

    def discover(self, selection: FleetSelection) -> list[Cluster]:
        """Every Arc cluster in the selection's subscriptions, groups and tags."""
        query = queries.discover_clusters(selection)
        rows = self._query_all(query, selection.subscriptions)
        return [Cluster.model_validate(row) for row in rows]

    def describe(self, cluster_ids: Sequence[str]) -> list[Cluster]:
        """The given clusters as discovery sees them (those that exist)."""
        subscriptions = sorted({ClusterRef.parse(c).subscription_id.lower() for c in cluster_ids})
        found: list[Cluster] = []
        for chunk in _chunks(cluster_ids, IDS_PER_QUERY):
            rows = self._query_all(queries.describe_clusters(chunk), subscriptions)
            found.extend(Cluster.model_validate(row) for row in rows)
        return found

    # -- health ------------------------------------------------------------------------

    def observe(
        self, commit: str, configuration_name: str, cluster_ids: Sequence[str]
    ) -> dict[str, Health]:
        """Health of each cluster for `commit`, from Resource Graph, keyed by cluster id."""
        if not cluster_ids:
            return {}
        subscriptions = sorted({ClusterRef.parse(c).subscription_id.lower() for c in cluster_ids})
        connectivity = {c.lower(): v for c, v in self.connectivity(cluster_ids).items()}
        statuses: dict[str, FluxStatus] = {}
        for chunk in _chunks(cluster_ids, IDS_PER_QUERY):
            config_ids = [configuration_id(c, configuration_name) for c in chunk]
            for row in self._query_all(queries.flux_configurations(config_ids), subscriptions):
                owner = cluster_id_of(row["id"]).lower()
                statuses[owner] = FluxStatus.model_validate(row.get("properties") or {})
        return {
            cluster_id: assess(
                commit, statuses.get(cluster_id.lower()), connectivity.get(cluster_id.lower())
            )
            for cluster_id in cluster_ids
        }

    def connectivity(self, cluster_ids: Sequence[str]) -> dict[str, Connectivity | None]:
        """Current connectivity of each cluster (None when Resource Graph does not know it)."""
        found = {c.id.lower(): c.connectivity_status for c in self.describe(cluster_ids)}
        return {c: found.get(c.lower()) for c in cluster_ids}

    def read_configuration(self, cluster_id: str, configuration_name: str) -> dict[str, Any] | None:
        """The fluxConfiguration as ARM returns it (wire JSON, api-version 2025-04-01 so OCI
        sources show), or None when absent."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to read fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"
        try:
            body = self._arm(ref, "GET", configuration_name)
        except Exception as error:
            mapped = map_arm_error(error, doing)
            if isinstance(mapped, NotFound):
                return None
            raise mapped from error
        return body

    def read_configurations(
        self, cluster_ids: Sequence[str], configuration_name: str
    ) -> dict[str, dict[str, Any] | None]:
        """Each cluster's fluxConfiguration (None when absent), keyed by cluster id."""
        if not cluster_ids:
            return {}
        if len(cluster_ids) <= DIRECT_READ_LIMIT:
            with ThreadPoolExecutor(max_workers=min(8, len(cluster_ids))) as pool:
                bodies = pool.map(
                    lambda c: self.read_configuration(c, configuration_name), cluster_ids
                )
                return dict(zip(cluster_ids, bodies, strict=True))
        subscriptions = sorted({ClusterRef.parse(c).subscription_id.lower() for c in cluster_ids})
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(cluster_ids, IDS_PER_QUERY):
            config_ids = [configuration_id(c, configuration_name) for c in chunk]
            for row in self._query_all(queries.flux_configurations(config_ids), subscriptions):
                found[cluster_id_of(row["id"]).lower()] = {
                    "properties": row.get("properties") or {}
                }
        return {c: found.get(c.lower()) for c in cluster_ids}

    def read_health(
        self,
        cluster_id: str,
        configuration_name: str,
        commit: str,
        connectivity: Connectivity | None = None,
    ) -> Health:
        """Health of one cluster from a direct GET: authoritative right after a write."""
        body = self.read_configuration(cluster_id, configuration_name)
        status = FluxStatus.model_validate(body.get("properties") or {}) if body else None
        return assess(commit, status, connectivity)

    # -- writes ------------------------------------------------------------------------

    def apply(self, cluster_id: str, configuration_name: str, body: dict[str, Any]) -> WriteOutcome:
        """PUT the whole desired configuration on one cluster."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to apply fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"
        payload = json.dumps(body).encode()

        def put() -> None:
            if is_oci_body(body):
                # OCI sources need api-version 2025-04-01, newer than the SDK's models.
                self._arm(ref, "PUT", configuration_name, body)
                return
            self._client(ref).flux_configurations.begin_create_or_update(
                ref.resource_group,
                "Microsoft.Kubernetes",
                "connectedClusters",
                ref.name,
                configuration_name,
                BytesIO(payload),
                content_type="application/json",
                polling=False,
            )

        props = body.get("properties", {})
        pin = (props.get("gitRepository") or props.get("ociRepository") or {}).get(
            "repositoryRef", {}
        )
        shown = pin.get("commit") or pin.get("digest") or pin.get("tag") or ""
        return self._write(ref, doing, put, f"applied {str(shown)[:7]}")

    def apply_many(
        self,
        cluster_ids: Sequence[str],
        configuration_name: str,
        body: dict[str, Any],
        *,
        max_workers: int = 16,
    ) -> list[WriteOutcome]:
        """Apply to many clusters in parallel, in input order; per-cluster outcomes."""
        if not cluster_ids:
            return []
        workers = max(1, min(max_workers, len(cluster_ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arcwave-apply") as pool:
            return list(pool.map(lambda c: self.apply(c, configuration_name, body), cluster_ids))

    def remove(self, cluster_id: str, configuration_name: str) -> WriteOutcome:
        """DELETE the configuration (a rollback with no earlier revision to restore)."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to delete fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"

        def delete() -> None:
            self._client(ref).flux_configurations.begin_delete(
                ref.resource_group,
                "Microsoft.Kubernetes",
                "connectedClusters",
                ref.name,
                configuration_name,
                polling=False,
            )

        return self._write(ref, doing, delete, "deleted")

    def _write(
        self, ref: ClusterRef, doing: str, send: Callable[[], None], done: str
    ) -> WriteOutcome:
        bucket = self._buckets[ref.subscription_id]
        waited = 0.0
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            waited += bucket.take()
            try:
                send()
            except Exception as error:
                mapped = map_arm_error(error, doing)
                if isinstance(mapped, Throttled):
                    bucket.pause(mapped.delay)
                    log.warning("%s; pausing writes to %s", mapped, ref.subscription_id)
                elif isinstance(mapped, TransientError) and attempt < WRITE_ATTEMPTS:
                    self._sleep(min(mapped.delay, 2.0 * attempt))
                if isinstance(mapped, TransientError) and attempt < WRITE_ATTEMPTS:
                    continue
                return WriteOutcome(
                    cluster_id=ref.id,
                    ok=False,
                    error=_kind(mapped),
                    message=str(mapped),
                    waited_seconds=waited,
                )
            return WriteOutcome(cluster_id=ref.id, ok=True, message=done, waited_seconds=waited)
        raise AssertionError("unreachable: the last attempt always returns")

    # -- plumbing ----------------------------------------------------------------------

    def _client(self, ref: ClusterRef) -> SourceControlConfigurationClient:
        key = ref.subscription_id.lower()
        client = self._clients.get(key)
        if client is None:
            client = SourceControlConfigurationClient(
                self._credential, ref.subscription_id, **client_options(self._settings)
            )
            self._clients[key] = client
        return client

    def _arm(
        self, ref: ClusterRef, method: str, configuration_name: str, body: Any = None
    ) -> dict[str, Any] | None:
        """One ARM call on a fluxConfiguration at `OCI_API_VERSION`, through the SDK client's
        own pipeline (credential, retries, transport); raises azure-core's errors."""
        url = (
            f"{self._settings.arm_endpoint}{ref.id}/providers/"
            f"{FLUX_CONFIGURATIONS}/{configuration_name}"
        )
        request = HttpRequest(method, url, params={"api-version": OCI_API_VERSION}, json=body)
        pipeline = self._client(ref)._client  # the mgmt client's ARMPipelineClient
        response = pipeline.send_request(request)
        if response.status_code >= 400:
            error_type = ResourceNotFoundError if response.status_code == 404 else HttpResponseError
            raise error_type(response=response, error_format=ARMErrorFormat)
        if not response.content:
            return None
        result: dict[str, Any] = response.json()
        return result

    def _query_all(self, query: str, subscriptions: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every row of `query` over `subscriptions`, following `$skipToken` pages."""
        for group in _chunks(subscriptions, SUBSCRIPTIONS_PER_QUERY):
            token: str | None = None
            while True:
                page, token = self._query_page(query, group, token)
                yield from page
                if not token:
                    break

    def _query_page(
        self, query: str, subscriptions: Sequence[str], token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        request = QueryRequest(
            subscriptions=list(subscriptions),
            query=query,
            options=QueryRequestOptions(
                top=None if token else ROWS_PER_PAGE,
                skip_token=token,
                result_format="objectArray",
            ),
        )
        doing = "Resource Graph query failed"
        for attempt in range(1, GRAPH_ATTEMPTS + 1):
            try:
                result: Any = self._graph.resources(
                    request, cls=lambda _raw, model, headers: (model, headers)
                )
                response, headers = result
            except Exception as error:
                mapped = map_arm_error(error, doing)
                if isinstance(mapped, TransientError) and attempt < GRAPH_ATTEMPTS:
                    self._sleep(mapped.delay if isinstance(mapped, Throttled) else attempt)
                    continue
                raise mapped from error
            self._respect_quota(headers)
            return list(response.data or []), response.skip_token
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _respect_quota(self, headers: dict[str, str]) -> None:
        remaining = headers.get("x-ms-user-quota-remaining")
        if remaining is not None and remaining.strip() == "0":
            delay = _hms_seconds(headers.get("x-ms-user-quota-resets-after", "00:00:01"))
            log.info("Resource Graph quota used up; waiting %.1fs for it to reset", delay)
            self._sleep(delay)


def _kind(error: ArcwaveError) -> str:
    if isinstance(error, Throttled):
        return "Throttled"
    if isinstance(error, TransientError):
        return "Transient"
    return getattr(error, "code", "Permanent")


def _hms_seconds(text: str) -> float:
    try:
        hours, minutes, seconds = (float(p) for p in text.split(":"))
    except ValueError:
        return 1.0
    return max(hours * 3600 + minutes * 60 + seconds, 0.0)


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
