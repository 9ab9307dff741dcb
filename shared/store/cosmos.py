"""The Cosmos DB store (azure-cosmos, sync client): the one arcwave uses in Azure.

`ARCWAVE_STORE=cosmos` with `ARCWAVE_COSMOS_ENDPOINT` and `ARCWAVE_COSMOS_DATABASE`. In Azure
the app signs in with its managed identity (a `TokenCredential`) and Bicep creates the
database and containers; against the test stand-in a key is used and `ensure_containers()`
creates them.

How the protocol maps onto Cosmos:
- conditional writes send `etag=` with `match_condition=IfNotModified` (412 when stale);
  `upsert(if_match=...)` is a conditional replace, so a vanished document is a
  `PreconditionFailed` rather than a silent re-create;
- create-if-absent is `create_item` (409 when the id exists);
- every query names the partition key in its WHERE clause as well as in `partition_key=`,
  and sorts and limits server side (`TOP n ... ORDER BY c["field"]`);
- `upsert_many` sends transactional batches of at most 100 operations per partition;
- errors map to the store's: 404 NotFound, 409 Conflict, 412 PreconditionFailed,
  408/429/449/500/503 and connection failures StoreUnavailable (with the server's
  `x-ms-retry-after-ms`), anything else StoreError. Messages carry the status and the
  service's first message line, never request headers or keys;
- a document over the item limit is `DocumentTooLarge` before it is sent (as on SQLite);
- off a request path a call may take `timeout` (30 s) and the SDK retries throttling; on one
  (`shared.store.waiting`) calls go through a second client that does not (a 429 is
  `StoreUnavailable` at once), each bounded by what is left of the request's store budget.
"""

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey, SSLConfiguration
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from shared.store.base import (
    ClosesOnExit,
    Conflict,
    Document,
    NotFound,
    PreconditionFailed,
    Scalar,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
    check_query,
    check_size,
    describe,
)
from shared.store.containers import ContainerSpec, Layout, keys_of
from shared.store.waiting import on_budget, spending, time_left

BATCH_LIMIT = 100
"""Operations per transactional batch (Cosmos's limit)."""

T = TypeVar("T")

_TRANSIENT = frozenset({408, 429, 449, 500, 503})

REQUEST_TIMEOUT = 2.0
"""The per-attempt timeouts of the request-path client."""

Options = dict[str, Any]
"""Keyword arguments every SDK call of one store call gets (the budget's `timeout`)."""


class CosmosStore(ClosesOnExit):
    """The `Store` protocol over one Cosmos DB database; see the module docstring."""

    def __init__(
        self,
        endpoint: str,
        database: str,
        credential: str | TokenCredential,
        *,
        layout: Layout | None = None,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        max_throttle_retries: int = 3,
        client: CosmosClient | None = None,
    ) -> None:
        """`credential` is a key only for the test stand-in; in Azure a `TokenCredential`.
        `ca_bundle` names a PEM file to trust (the stand-in's certificate); `timeout` bounds
        every call; the SDK itself retries throttled requests `max_throttle_retries` times."""
        self.endpoint = endpoint
        self.database_name = database
        self.layout = layout or Layout()
        self._credential = credential
        self._ca_bundle = ca_bundle
        self._own_clients = client is None
        if client is None:
            client = self._open_client(timeout=timeout, throttle_retries=max_throttle_retries)
        self._client = client
        self._containers = self._proxies_of(client)
        self._request_containers: dict[str, ContainerProxy] | None = None
        self._request_client: CosmosClient | None = None
        self._request_lock = threading.Lock()

    def _open_client(self, *, timeout: float, throttle_retries: int) -> CosmosClient:
        options: dict[str, Any] = {}
        if self._ca_bundle is not None:
            # Also makes the SDK verify a loopback endpoint, which it otherwise does not.
            ssl = SSLConfiguration()
            ssl.SSLCaCerts = self._ca_bundle
            options["ssl_config"] = ssl
        try:  # the client reads the account (its regions) right away
            return CosmosClient(
                self.endpoint,
                credential=self._credential,
                connection_timeout=timeout,
                read_timeout=timeout,
                timeout=timeout,
                retry_throttle_total=throttle_retries,
                retry_throttle_backoff_max=max(1, int(timeout)),
                **options,
            )
        except CosmosHttpResponseError as error:
            raise _mapped(error, f"cannot open Cosmos DB at '{self.endpoint}'") from error
        except AzureError as error:
            raise _unreachable(error, self.endpoint) from error

    def _proxies_of(self, client: CosmosClient) -> dict[str, ContainerProxy]:
        database = client.get_database_client(self.database_name)
        return {
            spec.name: database.get_container_client(spec.name) for spec in self.layout.containers
        }

    def ensure_containers(self) -> None:
        """Create the database and the containers when missing; check partition keys of the
        ones that exist (a wrong key cannot be changed, only recreated)."""
        try:
            database = self._client.create_database_if_not_exists(self.database_name)
            for spec in self.layout.containers:
                container = database.create_container_if_not_exists(
                    spec.name,
                    partition_key=PartitionKey(path=spec.partition_key_path),
                    default_ttl=spec.default_ttl,
                )
                _check_container(spec, container.read())
        except CosmosHttpResponseError as error:
            raise _mapped(
                error, f"cannot create the containers of '{self.database_name}'"
            ) from error
        except AzureError as error:
            raise _unreachable(error, self.endpoint) from error

    # -- the protocol ------------------------------------------------------------------------

    def get(self, container: str, partition_key: str, id: str) -> Document:
        spec = self.layout.spec(container)
        what = describe(container, partition_key, id)
        proxy = self._container(spec)
        return self._run(
            what, container, id, lambda o: proxy.read_item(id, partition_key=partition_key, **o)
        )

    def create(self, container: str, doc: Mapping[str, Any]) -> Document:
        return self._write(container, doc, lambda proxy, body, id, o: proxy.create_item(body, **o))

    def upsert(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        if if_match is not None:
            try:
                return self.replace(container, doc, if_match=if_match)
            except NotFound as error:
                raise PreconditionFailed(
                    f"{error} (it was expected at ETag {if_match})",
                    container=container,
                    id=error.id,
                ) from error
        return self._write(container, doc, lambda proxy, body, id, o: proxy.upsert_item(body, **o))

    def replace(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        return self._write(
            container,
            doc,
            lambda proxy, body, id, o: proxy.replace_item(id, body, **_condition(if_match), **o),
        )

    def _write(
        self,
        container: str,
        doc: Mapping[str, Any],
        send: Callable[[ContainerProxy, dict[str, Any], str, Options], Document],
    ) -> Document:
        """One write of `doc` through `send(container proxy, body, id, options)`, errors
        translated; a document over the item limit is refused before it is sent."""
        spec = self.layout.spec(container)
        body, pk, id = keys_of(spec, doc)
        check_size(container, body, pk, id)
        proxy = self._container(spec)
        return self._run(
            describe(container, pk, id), container, id, lambda o: send(proxy, body, id, o)
        )

    def delete(
        self, container: str, partition_key: str, id: str, *, if_match: str | None = None
    ) -> None:
        spec = self.layout.spec(container)
        proxy = self._container(spec)
        self._run(
            describe(container, partition_key, id),
            container,
            id,
            lambda o: proxy.delete_item(
                id, partition_key=partition_key, **_condition(if_match), **o
            ),
        )

    def query(
        self,
        container: str,
        partition_key: str | None,
        *,
        where: Mapping[str, Scalar] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Document]:
        spec = self.layout.spec(container)
        filters = check_query(where, order_by, limit)
        clauses: list[str] = []
        parameters: list[dict[str, Any]] = []
        if partition_key is not None:
            clauses.append(f'c["{spec.partition_key}"] = @pk')
            parameters.append({"name": "@pk", "value": partition_key})
        for index, (name, value) in enumerate(filters.items()):
            clauses.append(f'c["{name}"] = @p{index}')
            parameters.append({"name": f"@p{index}", "value": value})
        sql = "SELECT" + (f" TOP {limit}" if limit is not None else "") + " * FROM c"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by is not None:
            sql += f' ORDER BY c["{order_by}"] ' + ("DESC" if descending else "ASC")
        scope: dict[str, Any] = (
            {"partition_key": partition_key}
            if partition_key is not None
            else {"enable_cross_partition_query": True}
        )
        proxy = self._container(spec)
        return self._run(
            f"query of '{container}'",
            container,
            None,
            lambda o: [
                dict(item) for item in proxy.query_items(sql, parameters=parameters, **scope, **o)
            ],
        )

    def upsert_many(self, container: str, docs: Iterable[Mapping[str, Any]]) -> list[Document]:
        spec = self.layout.spec(container)
        by_partition: dict[str, list[Document]] = {}
        for doc in docs:
            body, pk, id = keys_of(spec, doc)
            check_size(container, body, pk, id)  # all of them, before the first batch
            by_partition.setdefault(pk, []).append(body)
        stored: list[Document] = []
        for pk, bodies in by_partition.items():
            for start in range(0, len(bodies), BATCH_LIMIT):
                chunk = bodies[start : start + BATCH_LIMIT]
                stored.extend(self._batch_upsert(spec, pk, chunk))
        return stored

    def close(self) -> None:
        self._client.close()
        if self._request_client is not None:
            self._request_client.close()

    def __repr__(self) -> str:
        return f"CosmosStore('{self.endpoint}', database='{self.database_name}')"

    # -- helpers -----------------------------------------------------------------------------

    def _container(self, spec: ContainerSpec) -> ContainerProxy:
        """The container's proxy: through the request-path client on a request's budget (its
        one-time opening, bounded by its own timeouts, is not charged to the budget)."""
        if on_budget() and self._own_clients:
            return self._request_proxies()[spec.name]
        return self._containers[spec.name]

    def _request_proxies(self) -> dict[str, ContainerProxy]:
        """The containers through a client that does not wait out throttling, opened at the
        first call on a request path."""
        with self._request_lock:
            if self._request_containers is None:
                client = self._open_client(timeout=REQUEST_TIMEOUT, throttle_retries=0)
                self._request_client = client
                self._request_containers = self._proxies_of(client)
            return self._request_containers

    def _batch_upsert(self, spec: ContainerSpec, pk: str, bodies: list[Document]) -> list[Document]:
        operations = [("upsert", (body,)) for body in bodies]
        what = f"batch upsert of {len(bodies)} documents in '{spec.name}' (partition '{pk}')"
        proxy = self._container(spec)
        try:
            with spending():
                results = proxy.execute_item_batch(operations, partition_key=pk, **_options())
        except CosmosBatchOperationError as error:
            failed = error.operation_responses[error.error_index]
            status = int(failed.get("statusCode", error.status_code or 0))
            raise _status_error(
                status, f"{what}: operation {error.error_index} failed", None
            ) from error
        except CosmosHttpResponseError as error:
            raise _mapped(error, what, spec.name) from error
        except AzureError as error:
            raise _unreachable(error, self.endpoint) from error
        return [dict(result["resourceBody"]) for result in results]

    def _run(self, what: str, container: str, id: str | None, call: Callable[[Options], T]) -> T:
        """Make one SDK call, turning its errors into store errors; on a request path it
        gives up when the request's store budget is spent."""
        try:
            with spending():
                return call(_options())
        except CosmosHttpResponseError as error:
            raise _mapped(error, what, container, id) from error
        except AzureError as error:
            raise _unreachable(error, self.endpoint) from error


def _options() -> Options:
    """The SDK's absolute `timeout` for a call on a request path (none elsewhere: the client's
    own timeouts hold). The SDK reads 0 as no timeout, so a spent budget is 1 ms."""
    if not on_budget():
        return {}
    return {"timeout": max(0.001, time_left(REQUEST_TIMEOUT))}


def _condition(if_match: str | None) -> dict[str, Any]:
    if if_match is None:
        return {}
    return {"etag": if_match, "match_condition": MatchConditions.IfNotModified}


def _check_container(spec: ContainerSpec, properties: Mapping[str, Any]) -> None:
    paths = (properties.get("partitionKey") or {}).get("paths") or []
    if paths != [spec.partition_key_path]:
        raise StoreMisconfigured(
            f"container '{spec.name}' is partitioned by {paths}, arcwave needs "
            f"['{spec.partition_key_path}']; recreate it (a partition key cannot change)"
        )


def _mapped(
    error: CosmosHttpResponseError, what: str, container: str | None = None, id: str | None = None
) -> StoreError:
    status = int(error.status_code or 0)
    headers = getattr(error.response, "headers", None) or {}
    retry_ms = headers.get("x-ms-retry-after-ms")
    retry_after = float(retry_ms) / 1000 if retry_ms else None
    detail = _detail(error)
    mapped = _status_error(status, f"{what}: {detail}", retry_after)
    mapped.container, mapped.id = container, id
    return mapped


def _status_error(status: int, text: str, retry_after: float | None) -> StoreError:
    if status == 404:
        return NotFound(f"{text} (404 not found)")
    if status == 409:
        return Conflict(f"{text} (409 already exists)")
    if status == 412:
        return PreconditionFailed(f"{text} (412: changed since it was read; re-read and retry)")
    if status in _TRANSIENT:
        later = f", retry in {retry_after:g}s" if retry_after is not None else ", retry later"
        return StoreUnavailable(f"{text} ({status}{later})", retry_after=retry_after)
    return StoreError(f"{text} ({status})")


def _unreachable(error: AzureError, endpoint: str) -> StoreError:
    kind = (
        "unreachable" if isinstance(error, ServiceRequestError | ServiceResponseError) else "failed"
    )
    return StoreUnavailable(
        f"Cosmos DB at '{endpoint}' {kind}: {_first_line(str(error))}; retry later"
    )


def _detail(error: CosmosHttpResponseError) -> str:
    """`Code: first line of the service's message`, from the error body Cosmos sends."""
    raw = getattr(error, "http_error_message", None)
    text = raw if isinstance(raw, str) else str(error)
    try:
        body = json.loads(text)
    except ValueError:
        return _first_line(text)
    if isinstance(body, dict) and body.get("message"):
        code = body.get("code")
        message = _first_line(str(body["message"]))
        return f"{code}: {message}" if code else message
    return _first_line(text)


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
