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
  service's first message line, never request headers or keys.
"""

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, DatabaseProxy, PartitionKey, SSLConfiguration
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
    describe,
)
from shared.store.containers import ContainerSpec, Layout, keys_of

BATCH_LIMIT = 100
"""Operations per transactional batch (Cosmos's limit)."""

T = TypeVar("T")

_TRANSIENT = frozenset({408, 429, 449, 500, 503})


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
        if client is None:
            options: dict[str, Any] = {}
            if ca_bundle is not None:
                # Also makes the SDK verify a loopback endpoint, which it otherwise does not.
                ssl = SSLConfiguration()
                ssl.SSLCaCerts = ca_bundle
                options["ssl_config"] = ssl
            try:  # the client reads the account (its regions) right away
                client = CosmosClient(
                    endpoint,
                    credential=credential,
                    connection_timeout=timeout,
                    read_timeout=timeout,
                    timeout=timeout,
                    retry_throttle_total=max_throttle_retries,
                    retry_throttle_backoff_max=int(timeout),
                    **options,
                )
            except CosmosHttpResponseError as error:
                raise _mapped(error, f"cannot open Cosmos DB at '{endpoint}'") from error
            except AzureError as error:
                raise _unreachable(error, endpoint) from error
        self._client = client
        self._database: DatabaseProxy = client.get_database_client(database)
        self._containers: dict[str, ContainerProxy] = {
            spec.name: self._database.get_container_client(spec.name)
            for spec in self.layout.containers
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
            what, container, id, lambda: proxy.read_item(id, partition_key=partition_key)
        )

    def create(self, container: str, doc: Mapping[str, Any]) -> Document:
        return self._write(container, doc, lambda proxy, body, id: proxy.create_item(body))

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
        return self._write(container, doc, lambda proxy, body, id: proxy.upsert_item(body))

    def replace(
        self, container: str, doc: Mapping[str, Any], *, if_match: str | None = None
    ) -> Document:
        return self._write(
            container,
            doc,
            lambda proxy, body, id: proxy.replace_item(id, body, **_condition(if_match)),
        )

    def _write(
        self,
        container: str,
        doc: Mapping[str, Any],
        send: Callable[[ContainerProxy, dict[str, Any], str], Document],
    ) -> Document:
        """One write of `doc` through `send(container proxy, body, id)`, errors translated."""
        spec = self.layout.spec(container)
        body, pk, id = keys_of(spec, doc)
        proxy = self._container(spec)
        return self._run(describe(container, pk, id), container, id, lambda: send(proxy, body, id))

    def delete(
        self, container: str, partition_key: str, id: str, *, if_match: str | None = None
    ) -> None:
        spec = self.layout.spec(container)
        proxy = self._container(spec)
        self._run(
            describe(container, partition_key, id),
            container,
            id,
            lambda: proxy.delete_item(id, partition_key=partition_key, **_condition(if_match)),
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
            lambda: [dict(item) for item in proxy.query_items(sql, parameters=parameters, **scope)],
        )

    def upsert_many(self, container: str, docs: Iterable[Mapping[str, Any]]) -> list[Document]:
        spec = self.layout.spec(container)
        by_partition: dict[str, list[Document]] = {}
        for doc in docs:
            body, pk, _ = keys_of(spec, doc)
            by_partition.setdefault(pk, []).append(body)
        stored: list[Document] = []
        for pk, bodies in by_partition.items():
            for start in range(0, len(bodies), BATCH_LIMIT):
                chunk = bodies[start : start + BATCH_LIMIT]
                stored.extend(self._batch_upsert(spec, pk, chunk))
        return stored

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"CosmosStore('{self.endpoint}', database='{self.database_name}')"

    # -- helpers -----------------------------------------------------------------------------

    def _container(self, spec: ContainerSpec) -> ContainerProxy:
        return self._containers[spec.name]

    def _batch_upsert(self, spec: ContainerSpec, pk: str, bodies: list[Document]) -> list[Document]:
        operations = [("upsert", (body,)) for body in bodies]
        what = f"batch upsert of {len(bodies)} documents in '{spec.name}' (partition '{pk}')"
        try:
            results = self._container(spec).execute_item_batch(operations, partition_key=pk)
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

    def _run(self, what: str, container: str, id: str | None, call: Callable[[], T]) -> T:
        """Make one SDK call, turning its errors into store errors."""
        try:
            return call()
        except CosmosHttpResponseError as error:
            raise _mapped(error, what, container, id) from error
        except AzureError as error:
            raise _unreachable(error, self.endpoint) from error


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
