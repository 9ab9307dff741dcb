"""Outgoing events: Event Grid ``Microsoft.Resources.*`` and Flux ``generic-hmac`` notifications.

Events are queued synchronously by the backend and posted by one background task, so a slow or
absent receiver never delays an ARM answer. Delivery failures are counted and kept (last 50)
for ``GET /_emulator/events``; they are not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from emulator.arm import now_iso
from emulator.scenario import EventsSpec

if TYPE_CHECKING:
    from emulator.flux import Outcome

FINISHED_MSG = "Reconciliation finished in {seconds:.1f}s, next run in 10m0s"

log = logging.getLogger(__name__)

WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"
DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess"
KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"
DELIVERY_FAILED_MSG = "event delivery to '{url}' failed: {error}"
POST_TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Delivery:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class EventSink:
    spec: EventsSpec
    tenant_id: str
    queue: asyncio.Queue[Delivery] | None = None
    sent: int = 0
    failed: int = 0
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=50))

    @property
    def enabled(self) -> bool:
        return self.spec.event_grid is not None or self.spec.flux is not None

    def _enqueue(self, delivery: Delivery) -> None:
        if self.queue is not None:
            self.queue.put_nowait(delivery)

    def resource_changed(
        self, resource_id: str, resource_type: str, method: str, url: str, deleted: bool = False
    ) -> None:
        """An ARM write (PUT/PATCH) or delete of ``resource_id`` succeeded."""
        sink = self.spec.event_grid
        if sink is None:
            return
        subscription = resource_id.split("/")[2]
        action = "delete" if deleted else "write"
        event_type = DELETE_SUCCESS if deleted else WRITE_SUCCESS
        correlation = str(uuid.uuid4())
        data = {
            "authorization": {
                "scope": resource_id,
                "action": f"{resource_type}/{action}",
                "evidence": {"role": "Contributor"},
            },
            "claims": {"aud": "https://management.azure.com/", "iss": "emulator"},
            "correlationId": correlation,
            "httpRequest": {
                "clientRequestId": correlation,
                "clientIpAddress": "127.0.0.1",
                "method": method,
                "url": url,
            },
            "resourceProvider": resource_type.split("/")[0],
            "resourceUri": resource_id,
            "operationName": f"{resource_type}/{action}",
            "status": "Succeeded",
            "subscriptionId": subscription,
            "tenantId": self.tenant_id,
        }
        event_id, when, topic = str(uuid.uuid4()), now_iso(), f"/subscriptions/{subscription}"
        if sink.schema_ == "CloudEventSchemaV1_0":
            body: Any = {
                "specversion": "1.0",
                "type": event_type,
                "source": topic,
                "id": event_id,
                "time": when,
                "subject": resource_id,
                "datacontenttype": "application/json",
                "data": data,
            }
            content_type = "application/cloudevents+json; charset=utf-8"
        else:
            body = [
                {
                    "subject": resource_id,
                    "eventType": event_type,
                    "eventTime": when,
                    "id": event_id,
                    "data": data,
                    "dataVersion": "2",
                    "metadataVersion": "1",
                    "topic": topic,
                }
            ]
            content_type = "application/json"
        headers = {
            "Content-Type": content_type,
            "aeg-event-type": "Notification",
            "aeg-subscription-name": "ARCWAVE-EMULATOR",
            "aeg-delivery-count": "0",
            "aeg-data-version": "2",
            "aeg-metadata-version": "1",
        }
        self._enqueue(Delivery(sink.url, json.dumps(body).encode(), headers))

    def flux_reconciled(self, outcome: Outcome) -> None:
        """One notification-controller event per kustomization for a finished reconcile."""
        sink = self.spec.flux
        if sink is None:
            return
        config = outcome.configuration
        namespace = config.spec.get("namespace", "default")
        for entry in config.statuses:
            if entry["kind"] != "Kustomization":
                continue
            cond = entry["statusConditions"][0]
            failed = cond["status"] != "True"
            message = cond["message"] if failed else FINISHED_MSG.format(seconds=outcome.elapsed)
            event = {
                "involvedObject": {
                    "kind": "Kustomization",
                    "namespace": namespace,
                    "name": entry["name"],
                    "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, config.id + entry["name"])),
                    "apiVersion": KUSTOMIZE_API,
                },
                "severity": "error" if failed else "info",
                "timestamp": now_iso()[:19] + "Z",
                "message": message,
                "reason": cond["reason"],
                "metadata": {
                    "revision": outcome.revision.flux_revision,
                    "clusterId": outcome.cluster.id,
                    "configuration": config.name,
                },
                "reportingController": "kustomize-controller",
                "reportingInstance": "kustomize-controller-emulator",
            }
            raw = json.dumps(event).encode()
            headers = {"Content-Type": "application/json", "Gotk-Component": "kustomize-controller"}
            if sink.hmac_key:
                digest = hmac.new(sink.hmac_key.encode(), raw, hashlib.sha256).hexdigest()
                headers["X-Signature"] = f"sha256={digest}"
            self._enqueue(Delivery(sink.url, raw, headers))

    async def deliver_forever(self, session: aiohttp.ClientSession) -> None:
        assert self.queue is not None
        while True:
            delivery = await self.queue.get()
            try:
                async with session.post(
                    delivery.url, data=delivery.body, headers=delivery.headers, timeout=POST_TIMEOUT
                ) as response:
                    await response.read()
                    if response.status >= 300:
                        raise aiohttp.ClientResponseError(
                            response.request_info, (), status=response.status
                        )
                self.sent += 1
            except (aiohttp.ClientError, TimeoutError) as error:
                self.failed += 1
                message = DELIVERY_FAILED_MSG.format(url=delivery.url, error=error)
                self.errors.append(message)
                log.warning(message)
            finally:
                self.queue.task_done()

    def stats(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "queued": self.queue.qsize() if self.queue else 0,
            "sent": self.sent,
            "failed": self.failed,
            "errors": list(self.errors),
        }


@contextlib.asynccontextmanager
async def running(sink: EventSink) -> AsyncIterator[None]:
    """Run the delivery task for the lifetime of the server."""
    if not sink.enabled:
        yield
        return
    sink.queue = asyncio.Queue()
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(sink.deliver_forever(session))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
