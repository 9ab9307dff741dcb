"""What only the Cosmos adapter does: containers, queries as Cosmos wants them, error mapping,
and the stand-in launcher's fixes."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from azure.cosmos import CosmosClient, PartitionKey, SSLConfiguration
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from shared.store import (
    Conflict,
    Layout,
    NotFound,
    PreconditionFailed,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
)
from shared.store.containers import DAY, TIMELINE
from shared.store.cosmos import CosmosStore, _mapped

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("error::urllib3.exceptions.InsecureRequestWarning"),
]


def raw_client(standin: Any) -> CosmosClient:
    """The SDK client itself, to look at what the adapter made."""
    ssl = SSLConfiguration()
    ssl.SSLCaCerts = str(standin.cert)
    return CosmosClient(standin.endpoint, credential=standin.key, ssl_config=ssl, timeout=10)


def test_ensure_containers_creates_the_designed_partition_keys_and_ttls(
    cosmos_standin: Any,
) -> None:
    name = f"arcwave-{uuid.uuid4().hex[:12]}"
    store = cosmos_standin.open(name, layout=Layout(timeline_ttl=30 * DAY))
    store.ensure_containers()  # a second time changes nothing
    store.close()
    with raw_client(cosmos_standin) as client:
        database = client.get_database_client(name)
        found = {
            c["id"]: (c["partitionKey"]["paths"], c.get("defaultTtl"))
            for c in database.list_containers()
        }
    assert found == {
        "tracks": (["/id"], None),
        "rollouts": (["/track"], None),
        "clusters": (["/track"], None),
        "timeline": (["/rolloutId"], 30 * DAY),
        "deliveries": (["/source"], 7 * DAY),
    }


def test_a_container_with_the_wrong_partition_key_is_refused(
    cosmos_standin: Any,
) -> None:
    name = f"arcwave-{uuid.uuid4().hex[:12]}"
    with raw_client(cosmos_standin) as client:
        database = client.create_database(name)
        database.create_container("rollouts", partition_key=PartitionKey(path="/id"))
    with pytest.raises(StoreMisconfigured, match=r"'rollouts' is partitioned by \['/id'\]"):
        cosmos_standin.open(name)


def test_an_unreachable_endpoint_is_store_unavailable(cosmos_standin: Any) -> None:
    with pytest.raises(StoreUnavailable, match="unreachable") as caught:
        CosmosStore(
            "https://127.0.0.1:9/", "db", cosmos_standin.key, ca_bundle=str(cosmos_standin.cert)
        )
    assert cosmos_standin.key not in str(caught.value)


def test_an_atomic_batch_is_all_or_nothing(cosmos_standin: Any) -> None:
    """The launcher's batch fix: the partition key from the header, and a rollback."""
    store = cosmos_standin.open()
    store.create(TIMELINE, {"id": "taken", "rolloutId": "r1"})
    store.close()
    with raw_client(cosmos_standin) as client:
        container = client.get_database_client(store.database_name).get_container_client(TIMELINE)
        with pytest.raises(CosmosBatchOperationError) as caught:
            container.execute_item_batch(
                [
                    ("upsert", ({"id": "new", "rolloutId": "r1"},)),
                    ("create", ({"id": "taken", "rolloutId": "r1"},)),
                ],
                partition_key="r1",
            )
        assert caught.value.error_index == 1
        ids = {
            d["id"]
            for d in container.query_items(
                "SELECT * FROM c WHERE c.rolloutId = 'r1'", partition_key="r1"
            )
        }
    assert ids == {"taken"}


# -- queries as Cosmos wants them (a fake client records what the adapter sends) ---------------


class RecordingContainer:
    def __init__(self) -> None:
        self.queries: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = []

    def query_items(self, sql: str, parameters: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
        self.queries.append((sql, parameters, kwargs))
        return []


class RecordingClient:
    def __init__(self) -> None:
        self.container = RecordingContainer()

    def get_database_client(self, name: str) -> RecordingClient:
        return self

    def get_container_client(self, name: str) -> RecordingContainer:
        return self.container

    def close(self) -> None:
        pass


def test_a_partition_query_names_the_key_in_where_and_in_the_request() -> None:
    client = RecordingClient()
    store = CosmosStore("https://x/", "db", "key", client=client)  # type: ignore[arg-type]
    store.query(
        "rollouts",
        "baseline",
        where={"state": "Running"},
        order_by="createdAt",
        descending=True,
        limit=5,
    )
    sql, parameters, kwargs = client.container.queries[0]
    assert sql == (
        'SELECT TOP 5 * FROM c WHERE c["track"] = @pk AND c["state"] = @p0 '
        'ORDER BY c["createdAt"] DESC'
    )
    assert parameters == [
        {"name": "@pk", "value": "baseline"},
        {"name": "@p0", "value": "Running"},
    ]
    assert kwargs == {"partition_key": "baseline"}


def test_a_cross_partition_query_says_so() -> None:
    client = RecordingClient()
    store = CosmosStore("https://x/", "db", "key", client=client)  # type: ignore[arg-type]
    store.query("clusters", None)
    assert client.container.queries[0][0] == "SELECT * FROM c"
    assert client.container.queries[0][2] == {"enable_cross_partition_query": True}


# -- error mapping -----------------------------------------------------------------------------


def http_error(status: int, headers: dict[str, str] | None = None) -> CosmosHttpResponseError:
    body = json.dumps({"code": "Code", "message": f"status {status}\r\nActivityId: 1"})
    error = CosmosHttpResponseError(status_code=status, message=body)
    error.response = SimpleNamespace(headers=headers or {})  # type: ignore[assignment]
    return error


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, NotFound),
        (409, Conflict),
        (412, PreconditionFailed),
        (408, StoreUnavailable),
        (429, StoreUnavailable),
        (449, StoreUnavailable),
        (503, StoreUnavailable),
        (400, StoreError),
        (403, StoreError),
    ],
)
def test_status_codes_map_to_store_errors(status: int, kind: type[StoreError]) -> None:
    mapped = _mapped(http_error(status), "document 'x' in 'tracks'", "tracks", "x")
    assert type(mapped) is kind
    assert mapped.container == "tracks" and mapped.id == "x"
    assert str(mapped).startswith(f"document 'x' in 'tracks': Code: status {status} (")
    assert "ActivityId" not in str(mapped)


def test_throttling_carries_the_servers_retry_after() -> None:
    mapped = _mapped(http_error(429, {"x-ms-retry-after-ms": "1500"}), "query of 'rollouts'")
    assert isinstance(mapped, StoreUnavailable)
    assert mapped.retry_after == 1.5
    assert "retry in 1.5s" in str(mapped)
