"""fluxConfigurations on api-versions 2023-05-01, 2024-11-01 and 2025-04-01 over raw HTTPS."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from emulator_support import SUBSCRIPTION

from emulator.testing import Emulator
from tests.support import eventually

pytestmark = pytest.mark.integration
CLUSTER = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet"
    "/providers/Microsoft.Kubernetes/connectedClusters/canary-1"
)
CONFIG = CLUSTER + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{name}"
AUTH = {"Authorization": "Bearer test"}
GIT = {
    "sourceKind": "GitRepository",
    "gitRepository": {
        "url": "https://github.com/contoso/fleet",
        "repositoryRef": {"branch": "main"},
    },
    "kustomizations": {"apps": {"path": "./apps"}},
}


def arm(
    emulator: Emulator, method: str, path: str, version: str, body: Any = None, **params: str
) -> requests.Response:
    return requests.request(
        method,
        emulator.endpoint + path,
        params={"api-version": version, **params},
        json=body,
        headers=AUTH,
        verify=str(emulator.cert_path),
        timeout=10,
    )


@pytest.mark.parametrize("version", ["2023-05-01", "2024-11-01", "2025-04-01"])
def test_put_get_list_delete_on_each_version(emulator: Emulator, version: str) -> None:
    path = CONFIG.format(name="baseline")
    created = arm(emulator, "PUT", path, version, {"properties": GIT})
    assert created.status_code == 201
    operation_url = created.headers["Azure-AsyncOperation"]
    assert operation_url.startswith(emulator.endpoint)
    assert f"api-version={version}" in operation_url
    status = eventually(
        lambda: (
            (
                body := requests.get(
                    operation_url, headers=AUTH, verify=str(emulator.cert_path), timeout=10
                ).json()
            )["status"]
            == "Succeeded"
            and body
        )
    )
    assert status["name"] in operation_url
    assert arm(emulator, "PUT", path, version, {"properties": GIT}).status_code == 200
    listed = arm(emulator, "GET", CONFIG.format(name=""), version).json()
    assert [item["name"] for item in listed["value"]] == ["baseline"]
    assert listed["nextLink"] is None
    deleted = arm(emulator, "DELETE", path, version)
    assert deleted.status_code == 202
    assert eventually(lambda: arm(emulator, "GET", path, version).status_code == 404)
    assert arm(emulator, "DELETE", path, version).status_code == 204


def test_unknown_api_version_is_rejected(emulator: Emulator) -> None:
    response = arm(emulator, "GET", CONFIG.format(name="x"), "2019-01-01")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_oci_repository_needs_2025_04_01(emulator: Emulator) -> None:
    oci = {
        "sourceKind": "OCIRepository",
        "ociRepository": {"url": "oci://contoso.azurecr.io/fleet", "repositoryRef": {"tag": "v1"}},
    }
    path = CONFIG.format(name="oci")
    old = arm(emulator, "PUT", path, "2023-05-01", {"properties": oci})
    assert old.status_code == 400
    assert old.json()["error"]["target"] == "properties.sourceKind"
    new = arm(emulator, "PUT", path, "2025-04-01", {"properties": oci})
    assert new.status_code == 201
    assert new.json()["properties"]["ociRepository"]["url"] == "oci://contoso.azurecr.io/fleet"


def test_body_that_is_not_json_is_invalid_content(emulator: Emulator) -> None:
    response = requests.put(
        emulator.endpoint + CONFIG.format(name="x"),
        params={"api-version": "2025-04-01"},
        data=b"{not json",
        headers={**AUTH, "Content-Type": "application/json"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_no_authorization_header_is_401(emulator: Emulator) -> None:
    response = requests.get(
        emulator.endpoint + CONFIG.format(name="x"),
        params={"api-version": "2025-04-01"},
        verify=str(emulator.cert_path),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in response.headers


def test_health(emulator: Emulator) -> None:
    response = requests.get(
        emulator.endpoint + "/_emulator/health", verify=str(emulator.cert_path), timeout=10
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
