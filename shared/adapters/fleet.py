"""The fleet gateway: everything arcwave reads from and writes to Azure about clusters.

- discover: the Arc clusters a track's fleet selection names, through Resource Graph
  (subscriptions in groups of at most 300, `$top` 1000 with `$skipToken` paging, the per-user
  quota headers respected);
- observe: the health of many clusters at once (fluxConfigurations from
  `kubernetesconfigurationresources` plus connectivity), in chunks of ids;
- read_configurations: clusters' configurations as ARM returns them: direct GETs for a few
  (authoritative right after a write; Resource Graph lags ARM), Resource Graph for many;
- put / patch / remove: PUT a whole configuration, PATCH part of one (the pin), or DELETE
  it, each write taking a token from its subscription's bucket first (writes and deletes
  have a bucket each, as in ARM), which then follows what ARM's answer says is left. A write
  may carry a deadline (the close of the cluster's maintenance windows): once it has passed,
  before or after the wait for a token or between retries, the write is not sent
  (`WindowClosed`). Many writes go out in parallel, each subscription with its own workers
  (`shared.adapters.fanout`).

ARM calls go through azure-mgmt-kubernetesconfiguration-fluxconfigurations (api-version
2025-04-01, which has OCI sources), Resource Graph through azure-mgmt-resourcegraph, whose
answers are paced on the per-user quota headers Resource Graph sends with each one.

Every failure leaves as one of `shared.errors`' classes with an operator-readable message.
"""

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient as FluxClient,
)
from azure.mgmt.resourcegraph import ResourceGraphClient

from shared import queries
from shared.adapters.arm import (
    call_outcome,
    client_options,
    credential_for,
    error_kind,
    map_arm_error,
    remaining_of,
)
from shared.adapters.fanout import per_group
from shared.cluster import Cluster, Connectivity
from shared.desired import cluster_id_of, configuration_id
from shared.errors import NotFound, PermanentError, Throttled, TransientError
from shared.health import FluxStatus, Health, assess
from shared.planner import tag_mismatch
from shared.ratelimit import (
    BucketRegistry,
    QuotaPacer,
    Ticket,
    TokenBucket,
    hms_seconds,
    take_turn,
)
from shared.revision import short_revision
from shared.settings import Settings
from shared.telemetry import arm_call, carried
from shared.times import Clock, utc_now
from shared.trackspec import FleetSelection
from shared.wire import WireModel

log = logging.getLogger("arcwave.fleet")

SUBSCRIPTIONS_PER_QUERY = 300
ROWS_PER_PAGE = 1000
IDS_PER_QUERY = 200
GRAPH_ATTEMPTS = 4
GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
GRAPH_API_VERSION = "2021-03-01"
"""The Resource Graph client's own api-version (azure-mgmt-resourcegraph 8)."""
GRAPH_ERRORS = {401: ClientAuthenticationError, 404: ResourceNotFoundError}
WRITE_ATTEMPTS = 6
DIRECT_READ_LIMIT = 20
"""Up to this many clusters are read one by one (fresh); more go through Resource Graph."""
WINDOW_CLOSED = "WindowClosed"
"""The error of a write not sent because its deadline (its window's close) had passed."""
GET, FLUX, GRAPH = "GET", "fluxConfigurations", "resources"
"""How ARM calls are named on their spans and metrics (`shared.telemetry.arm_call`)."""
DELETES = "deletes"
"""The key suffix of a subscription's delete bucket (ARM counts deletes apart from writes)."""

ResponseHook = Callable[[PipelineResponse[Any, Any]], None]
"""Called by azure-core with every answer to a request (`raw_response_hook`)."""

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

    @property
    def path(self) -> tuple[str, str, str, str]:
        """Resource group, cluster RP, cluster resource type and name, as the SDK wants them."""
        return (self.resource_group, "Microsoft.Kubernetes", "connectedClusters", self.name)

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
    """`NotFound`, `Invalid`, `Forbidden`, `Throttled` or `Transient` when not ok;
    `WindowClosed` when the write was not sent because its deadline had passed."""
    message: str
    waited_seconds: float = 0.0
    maybe_written: bool = False
    """`WindowClosed` only: an earlier attempt reached ARM and failed transiently, so the
    write may have landed all the same."""


def window_closed(
    cluster_id: str, deadline: datetime, *, waited: float = 0.0, maybe_written: bool = False
) -> WriteOutcome:
    """The outcome of a write not sent because its maintenance window closed first."""
    closed = deadline.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    why = f"the maintenance window closed at {closed} before this write could be sent"
    if waited > 0:
        why += f" (it waited {waited:.1f}s for the subscription's write budget)"
    if maybe_written:
        why += "; an earlier attempt failed transiently and may have landed"
    return WriteOutcome(
        cluster_id=cluster_id,
        ok=False,
        error=WINDOW_CLOSED,
        message=f"not written: {why}; it is written in the next opening",
        waited_seconds=waited,
        maybe_written=maybe_written,
    )


class FleetGateway:
    """ARM and Resource Graph access for one app instance (thread-safe).

    `now` is the wall clock write deadlines are read against: the one the activities take
    "now" from (`Runtime.now`), so a deadline computed from it means the same here."""

    def __init__(
        self,
        settings: Settings,
        *,
        credential: TokenCredential | None = None,
        buckets: BucketRegistry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._credential = credential or credential_for(settings)
        self._buckets = buckets or BucketRegistry(
            lambda: TokenBucket(settings.arm_writes_per_second, settings.arm_write_burst)
        )
        self._sleep = sleep
        self._now = now
        self._graph = ResourceGraphClient(self._credential, **client_options(settings))
        self._quota = QuotaPacer(sleep)
        self._clients: dict[str, FluxClient] = {}

    # -- discovery ---------------------------------------------------------------------

    def discover(self, selection: FleetSelection) -> list[Cluster]:
        """Every Arc cluster in the selection's subscriptions, groups and tags."""
        query = queries.discover_clusters(selection)
        rows = self._query_all(query, selection.subscriptions)
        clusters = [Cluster.model_validate(row) for row in rows]
        return [c for c in clusters if tag_mismatch(selection.tags, c) is None]

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
        """The fluxConfiguration as ARM returns it (wire JSON, systemData included), or None
        when absent."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to read fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"
        try:
            with arm_call(
                GET,
                FLUX,
                cluster_id=ref.id,
                configuration=configuration_name,
                classify=call_outcome,
            ):
                found = self._configurations(ref).get(*ref.path, configuration_name)
        except Exception as error:
            mapped = map_arm_error(error, doing)
            if isinstance(mapped, NotFound):
                return None
            raise mapped from error
        body: dict[str, Any] = found.as_dict()
        return body

    def read_configurations(
        self, cluster_ids: Sequence[str], configuration_name: str
    ) -> dict[str, dict[str, Any] | None]:
        """Each cluster's fluxConfiguration (None when absent), keyed by cluster id."""
        if not cluster_ids:
            return {}
        if len(cluster_ids) <= DIRECT_READ_LIMIT:
            with ThreadPoolExecutor(max_workers=min(8, len(cluster_ids))) as pool:
                read = functools.partial(
                    self.read_configuration, configuration_name=configuration_name
                )
                bodies = pool.map(carried(read), cluster_ids)
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

    # -- writes ------------------------------------------------------------------------

    def put(
        self,
        cluster_id: str,
        configuration_name: str,
        body: dict[str, Any],
        *,
        deadline: datetime | None = None,
    ) -> WriteOutcome:
        """PUT a whole configuration on one cluster (create, or replace every field); not sent
        once `deadline` has passed."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to write fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"

        def send(hook: ResponseHook) -> None:
            self._configurations(ref).begin_create_or_update(
                *ref.path, configuration_name, body, polling=False, raw_response_hook=hook
            )

        wrote = f"wrote {_shown_pin(body)}"
        return self._write(ref, "PUT", configuration_name, doing, send, wrote, deadline)

    def patch(
        self,
        cluster_id: str,
        configuration_name: str,
        body: dict[str, Any],
        *,
        deadline: datetime | None = None,
    ) -> WriteOutcome:
        """PATCH part of an existing configuration (JSON merge patch): what it does not name
        stays, write-only protected settings included. Not sent once `deadline` has passed."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to update fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"

        def send(hook: ResponseHook) -> None:
            self._configurations(ref).begin_update(
                *ref.path, configuration_name, body, polling=False, raw_response_hook=hook
            )

        moved = f"moved the pin to {_shown_pin(body)}"
        return self._write(ref, "PATCH", configuration_name, doing, send, moved, deadline)

    def write_many(
        self,
        cluster_ids: Sequence[str],
        configuration_name: str,
        body: dict[str, Any],
        *,
        patch: bool = False,
        max_workers: int = 16,
        deadlines: Mapping[str, datetime] | None = None,
    ) -> list[WriteOutcome]:
        """PUT `body` to many clusters in parallel (PATCH it, with `patch`): up to
        `max_workers` at a time per subscription, the subscriptions side by side; per-cluster
        outcomes, in input order. `deadlines`: cluster id → the time after which that
        cluster's write is not sent (clusters it does not name have none)."""
        write = self.patch if patch else self.put
        due = deadlines or {}
        return self._many(
            cluster_ids,
            lambda c: write(c, configuration_name, body, deadline=due.get(c)),
            max_workers,
        )

    def _many(
        self,
        cluster_ids: Sequence[str],
        write: Callable[[str], WriteOutcome],
        max_workers: int,
    ) -> list[WriteOutcome]:
        return per_group(cluster_ids, carried(write), _subscription_key, max_workers)

    def remove(
        self, cluster_id: str, configuration_name: str, *, deadline: datetime | None = None
    ) -> WriteOutcome:
        """DELETE the configuration (a rollback where arcwave created it, or a re-create);
        not sent once `deadline` has passed."""
        ref = ClusterRef.parse(cluster_id)
        doing = f"failed to delete fluxConfiguration '{configuration_name}' on cluster '{ref.name}'"

        def delete(hook: ResponseHook) -> None:
            self._configurations(ref).begin_delete(
                *ref.path, configuration_name, polling=False, raw_response_hook=hook
            )

        return self._write(ref, "DELETE", configuration_name, doing, delete, "deleted", deadline)

    def _write(
        self,
        ref: ClusterRef,
        method: str,
        name: str,
        doing: str,
        send: Callable[[ResponseHook], None],
        done: str,
        deadline: datetime | None,
    ) -> WriteOutcome:
        key = f"{ref.subscription_id}/{DELETES}" if method == "DELETE" else ref.subscription_id
        bucket = self._buckets[key]
        waited = 0.0
        uncertain = False  # an earlier attempt failed in a way that may have let it land
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            took, allowed, ticket = take_turn(bucket, deadline, self._now)
            waited += took
            if not allowed or ticket is None:
                assert deadline is not None
                refused = window_closed(ref.id, deadline, waited=waited, maybe_written=uncertain)
                log.info("%s %s on %s: %s", method, name, ref.name, refused.message)
                return refused
            try:
                with arm_call(
                    method,
                    FLUX,
                    cluster_id=ref.id,
                    configuration=name,
                    attempt=attempt,
                    classify=call_outcome,
                ):
                    send(_learning(bucket, ticket, method))
            except Exception as error:
                mapped = map_arm_error(error, doing)
                if isinstance(mapped, Throttled):
                    bucket.pause(mapped.delay)
                    log.warning("%s; pausing writes to %s", mapped, ref.subscription_id)
                elif isinstance(mapped, TransientError) and attempt < WRITE_ATTEMPTS:
                    uncertain = True  # a 5xx or a lost connection: ARM may have taken it
                    self._sleep(min(mapped.delay, 2.0 * attempt))
                if isinstance(mapped, TransientError) and attempt < WRITE_ATTEMPTS:
                    continue
                return WriteOutcome(
                    cluster_id=ref.id,
                    ok=False,
                    error=error_kind(mapped),
                    message=str(mapped),
                    waited_seconds=waited,
                )
            return WriteOutcome(cluster_id=ref.id, ok=True, message=done, waited_seconds=waited)
        raise AssertionError("unreachable: the last attempt always returns")

    # -- plumbing ----------------------------------------------------------------------

    def _configurations(self, ref: ClusterRef) -> Any:
        """The fluxConfigurations operations of the subscription's client."""
        key = ref.subscription_id.lower()
        client = self._clients.get(key)
        if client is None:
            client = FluxClient(
                self._credential, ref.subscription_id, **client_options(self._settings)
            )
            self._clients[key] = client
        return client.flux_configurations

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
        options: dict[str, Any] = {"resultFormat": "objectArray"}
        if token:
            options["$skipToken"] = token
        else:
            options["$top"] = ROWS_PER_PAGE
        body = {"subscriptions": list(subscriptions), "query": query, "options": options}
        doing = "Resource Graph query failed"
        for attempt in range(1, GRAPH_ATTEMPTS + 1):
            self._quota.wait()
            try:
                with arm_call("POST", GRAPH, attempt=attempt, classify=call_outcome):
                    page, headers = self._graph_request(body)
            except Exception as error:
                mapped = map_arm_error(error, doing)
                if isinstance(mapped, Throttled):
                    self._quota.exhausted(mapped.delay)
                if isinstance(mapped, TransientError) and attempt < GRAPH_ATTEMPTS:
                    if not isinstance(mapped, Throttled):
                        self._sleep(attempt)
                    continue
                raise mapped from error
            self._quota.update(
                headers.get("x-ms-user-quota-remaining"),
                hms_seconds(headers.get("x-ms-user-quota-resets-after", "00:00:01")),
            )
            return list(page["data"] or []), page.get("$skipToken")
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _graph_request(self, body: dict[str, Any]) -> tuple[dict[str, Any], Mapping[str, str]]:
        """One `POST /providers/Microsoft.ResourceGraph/resources` through the Resource Graph
        client's pipeline (credential, retries, the CA bundle): its body, read as plain JSON,
        and its headers.

        Not `client.resources()`: its generated deserializer walks every value of every row in
        Python, about half a second per 10,000 clusters on the way from a push to its first
        write, to give back the same dicts `json.loads` makes in C. Errors are raised as
        `resources()` raises them (ARM's error format), so `map_arm_error` reads them alike.
        """
        request = HttpRequest(
            "POST", GRAPH_PATH, params={"api-version": GRAPH_API_VERSION}, json=body
        )
        response = self._graph._send_request(request)
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=GRAPH_ERRORS)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response.json(), response.headers


def _learning(bucket: TokenBucket, ticket: Ticket, method: str) -> ResponseHook:
    """A hook that tells `bucket` what each answer to the write holding `ticket` says is left
    of the subscription's ARM bucket (azure-core calls it for every answer, 429s and the
    5xx it retries included)."""

    def heard(response: PipelineResponse[Any, Any]) -> None:
        left = remaining_of(response, method)
        if left is not None:
            bucket.learn(left, ticket)

    return heard


def _subscription_key(cluster_id: str) -> str:
    """The subscription a cluster's writes are paced by ('' for an id that names none: its
    write fails as such)."""
    match = _CLUSTER_ID.fullmatch(cluster_id.rstrip("/"))
    return match["sub"].lower() if match else ""


def _shown_pin(body: dict[str, Any]) -> str:
    props = body.get("properties", {})
    ref = (props.get("gitRepository") or props.get("ociRepository") or {}).get("repositoryRef", {})
    shown = ref.get("commit") or ref.get("digest") or ref.get("tag") or ""
    return short_revision(str(shown))


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
