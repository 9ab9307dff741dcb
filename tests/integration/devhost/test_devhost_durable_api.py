"""The Durable HTTP API itself: status codes and JSON shapes of the extension's webhook."""

from __future__ import annotations

import json
import uuid

import pytest

from devhost.testing import DevHost, poll

pytestmark = pytest.mark.integration

API = "/runtime/webhooks/durabletask"


def api(
    host: DevHost, method: str, path: str, body: object = None, **kw: object
) -> tuple[int, object]:
    sep = "&" if "?" in path else "?"
    return host.request(method, f"{API}{path}{sep}code={host.function_key}", body, **kw)


def start(host: DevHost, name: str, input_: object = None, instance_id: str | None = None) -> str:
    path = f"/orchestrators/{name}" + (f"/{instance_id}" if instance_id else "")
    status, body = api(host, "POST", path, input_)
    assert status == 202, body
    return body["id"]


def test_webhook_needs_the_key_but_loopback_rpc_does_not(host: DevHost) -> None:
    assert host.request("GET", f"{API}/instances/")[0] == 401
    assert host.request("GET", "/durabletask/instances/")[0] == 200


def test_unknown_instance_is_404_with_empty_body(host: DevHost) -> None:
    assert api(host, "GET", "/instances/nope") == (404, None)
    for action in ("terminate", "suspend", "resume"):
        assert api(host, "POST", f"/instances/nope/{action}?reason=x")[0] == 404
    assert api(host, "POST", "/instances/nope/raiseEvent/E", 1)[0] == 404
    assert api(host, "DELETE", "/instances/nope")[0] == 404


def test_start_answers_202_with_management_urls(host: DevHost) -> None:
    status, body = api(host, "POST", "/orchestrators/hello_sequence", "raw json input")
    assert status == 202
    assert body["statusQueryGetUri"].startswith(f"{host.base_url}{API}/instances/{body['id']}")
    done = host.wait_for(body["id"])
    assert done["input"] == "raw json input"


def test_running_status_is_202_and_finished_is_200(host: DevHost) -> None:
    instance_id = start(host, "wait_forever")
    status, body = poll(
        lambda: (r := api(host, "GET", f"/instances/{instance_id}"))[0] == 202 and r
    )
    assert body["runtimeStatus"] in ("Pending", "Running")
    assert set(body) >= {
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    }
    assert (
        api(
            host,
            "POST",
            f"/instances/{instance_id}/raiseEvent/Go",
            raw=b'"x"',
            headers={"Content-Type": "text/plain"},
        )[0]
        == 400
    )
    assert api(host, "POST", f"/instances/{instance_id}/raiseEvent/Go", "x")[0] == 202
    host.wait_for(instance_id)
    status, body = api(host, "GET", f"/instances/{instance_id}")
    assert status == 200 and body["output"] == "hello x"
    assert api(host, "POST", f"/instances/{instance_id}/terminate?reason=late")[0] == 410
    assert api(host, "POST", f"/instances/{instance_id}/suspend")[0] == 410
    assert api(host, "POST", f"/instances/{instance_id}/raiseEvent/Go", "y")[0] == 410


def test_failed_status_code_option(host: DevHost) -> None:
    instance_id = start(host, "failing")
    host.wait_for(instance_id)
    assert api(host, "GET", f"/instances/{instance_id}")[0] == 200
    code, _ = api(host, "GET", f"/instances/{instance_id}?returnInternalServerErrorOnFailure=true")
    assert code == 500


def test_start_errors(host: DevHost) -> None:
    status, body = api(host, "POST", "/orchestrators/no_such_orchestrator")
    assert status == 400 and "no_such_orchestrator" in body["ExceptionMessage"]
    status, body = api(host, "POST", "/orchestrators/wait_forever/@bad")
    assert status == 400
    status, body = api(host, "POST", f"/orchestrators/wait_forever/{'x' * 101}")
    assert status == 400 and "between 1 and 100 characters" in body["ExceptionMessage"]
    instance_id = start(host, "wait_forever", instance_id=f"busy-{uuid.uuid4().hex[:8]}")
    status, body = api(host, "POST", f"/orchestrators/wait_forever/{instance_id}")
    assert status == 500 and "already exists" in body["ExceptionMessage"]
    api(host, "POST", f"/instances/{instance_id}/terminate?reason=cleanup")


def test_list_pages_with_top_and_continuation_token(host: DevHost) -> None:
    prefix = f"page-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        start(host, "hello_sequence", i, instance_id=f"{prefix}-{i}")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        status, headers, body = host.raw(
            "GET",
            f"{API}/instances/?instanceIdPrefix={prefix}&top=2&code={host.function_key}",
            headers={"x-ms-continuation-token": token} if token else {},
        )
        assert status == 200
        pages += 1
        seen += [s["instanceId"] for s in json.loads(body)]
        token = headers.get("x-ms-continuation-token")
        if not token:
            break
    assert pages == 2
    assert seen == [f"{prefix}-{i}" for i in range(3)]
    code, body = api(host, "GET", "/instances/?runtimeStatus=Nonsense")
    assert code == 400 and "Nonsense" in body["Message"]


def test_entities_and_rewind_are_reported_as_not_implemented(host: DevHost) -> None:
    status, body = api(host, "GET", "/entities/counter/k1")
    assert status == 501 and "entities" in body["Message"]
    instance_id = start(host, "failing")
    host.wait_for(instance_id)
    assert api(host, "POST", f"/instances/{instance_id}/rewind?reason=x")[0] == 501


def test_purge_by_filter_with_nothing_matching_is_404(host: DevHost) -> None:
    status, _ = api(host, "DELETE", "/instances/?createdTimeFrom=2999-01-01T00:00:00Z")
    assert status == 404
