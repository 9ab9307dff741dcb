"""Events reach a local receiver: Event Grid for ARM writes, signed Flux notifications."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from emulator_support import SUBSCRIPTION, fleet_scenario

from emulator.testing import Emulator
from tests.support import eventually

pytestmark = pytest.mark.integration
CONFIG = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/Microsoft.Kubernetes"
    "/connectedClusters/canary-1/providers/Microsoft.KubernetesConfiguration"
    "/fluxConfigurations/baseline"
)


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def paths(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for p, h, b in self.received if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_write_and_reconcile_events(receiver: Receiver, tls_dir: Path) -> None:
    scenario = fleet_scenario(
        events={
            "eventGrid": {"url": receiver.url + "/eg", "schema": "EventGridSchema"},
            "flux": {"url": receiver.url + "/flux", "hmacKey": "s3cret"},
        }
    )
    with Emulator(scenario, tls_dir=tls_dir) as emulator:
        body = {
            "properties": {
                "gitRepository": {
                    "url": "https://github.com/contoso/fleet",
                    "repositoryRef": {"branch": "main"},
                },
                "kustomizations": {"apps": {}},
            }
        }
        response = requests.put(
            emulator.endpoint + CONFIG,
            params={"api-version": "2025-04-01"},
            json=body,
            headers={"Authorization": "Bearer t"},
            verify=str(emulator.cert_path),
            timeout=10,
        )
        assert response.status_code == 201
        eventually(lambda: receiver.paths("/eg") and receiver.paths("/flux"))
        assert emulator.control.events()["sent"] >= 2

    headers, raw = receiver.paths("/eg")[0]
    (event,) = json.loads(raw)
    assert headers["aeg-event-type"] == "Notification"
    assert event["eventType"] == "Microsoft.Resources.ResourceWriteSuccess"
    assert event["subject"] == CONFIG
    headers, raw = receiver.paths("/flux")[0]
    digest = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == f"sha256={digest}"
    flux_event = json.loads(raw)
    assert flux_event["reason"] == "ReconciliationSucceeded"
    assert flux_event["metadata"]["revision"].startswith("main@sha1:")
    assert flux_event["metadata"]["clusterId"].endswith("/connectedClusters/canary-1")
