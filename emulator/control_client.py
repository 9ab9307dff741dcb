"""`ControlClient`: a thin client for the control API under ``/_emulator/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import requests


class ControlClient:
    """Every method returns the decoded JSON answer; an error status raises ``HTTPError``."""

    def __init__(self, endpoint: str, cert_path: Path) -> None:
        self.endpoint = endpoint
        self.verify = str(cert_path)
        self.session = requests.Session()
        # The emulator is on loopback: never reach it through a proxy from the environment.
        self.session.trust_env = False

    def _call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        # verify per request: a session-level value loses to REQUESTS_CA_BUNDLE.
        response = self.session.request(
            method,
            f"{self.endpoint}/_emulator/{path}",
            json=body,
            params=params or None,
            timeout=30,
            verify=self.verify,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def _object(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        return cast(dict[str, Any], self._call(method, path, body))

    def _array(self, method: str, path: str) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call(method, path))

    def close(self) -> None:
        self.session.close()

    def health(self) -> dict[str, Any]:
        return self._object("GET", "health")

    def clusters(self) -> list[dict[str, Any]]:
        return self._array("GET", "clusters")

    def add_cluster(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._object("POST", "clusters", {"name": name, **fields})

    def remove_cluster(self, name: str) -> None:
        self._call("DELETE", f"clusters/{name}")

    def set_connectivity(self, name: str, status: str) -> dict[str, Any]:
        return self._object("POST", f"clusters/{name}/connectivity", {"status": status})

    def edit_configuration(
        self, cluster: str, configuration: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            f"clusters/{cluster}/configurations/{configuration}/edit",
            {"properties": properties},
        )

    def protected_settings(self, cluster: str, configuration: str) -> dict[str, Any]:
        """``{"keys": [...], "values": {...}}``: the configuration's stored
        ``configurationProtectedSettings`` (test introspection; Azure has no such read)."""
        return self._object("GET", f"clusters/{cluster}/configurations/{configuration}/protected")

    def faults(self) -> dict[str, Any]:
        return self._object("GET", "faults")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Replace every fault: the scenario's ``faults`` keys (camelCase) plus ``failures``."""
        return self._object("PUT", "faults", faults)

    def patch_faults(self, **faults: Any) -> dict[str, Any]:
        return self._object("PATCH", "faults", faults)

    def branches(self) -> dict[str, str]:
        return cast(dict[str, str], self._call("GET", "branches"))

    def move_branch(self, branch: str, sha: str) -> dict[str, Any]:
        return self._object("PUT", f"branches/{branch}", {"sha": sha})

    def flux(self) -> dict[str, Any]:
        return self._object("GET", "flux")

    def set_flux(self, **settings: Any) -> dict[str, Any]:
        """``progression`` (time, immediate, manual), ``reconcileSeconds``, ``sources``,
        ``ociRevisionForm`` and/or ``ociRevisionRules`` (camelCase, as in the scenario)."""
        return self._object("PATCH", "flux", settings)

    def reconcile(self) -> int:
        return int(self._call("POST", "flux/reconcile")["reconciled"])

    def secrets(self) -> list[str]:
        """The Key Vault stand-in's secret names (values are never listed)."""
        return cast(list[str], self._call("GET", "keyvault/secrets"))

    def set_secret(self, name: str, value: str) -> dict[str, Any]:
        """A new version of ``name``: ``{"name", "version", "versions"}``."""
        return self._object("PUT", f"keyvault/secrets/{name}", {"value": value})

    def delete_secret(self, name: str) -> None:
        self._call("DELETE", f"keyvault/secrets/{name}")

    def monitor(self) -> dict[str, Any]:
        """``{"metrics", "queryFailures", "workspaces"}``: the synthetic Azure Monitor data."""
        return self._object("GET", "monitor")

    def set_monitor(self, **monitor: Any) -> dict[str, Any]:
        """Replace ``metrics``, ``queryFailures`` and ``workspaces`` (camelCase, as in the
        scenario's ``monitor`` section)."""
        return self._object("PUT", "monitor", monitor)

    def patch_monitor(self, **monitor: Any) -> dict[str, Any]:
        """Merge: ``metrics`` by name (``None`` removes one); other keys replace."""
        return self._object("PATCH", "monitor", monitor)

    def series(self) -> list[dict[str, Any]]:
        """Every connected cluster's value of every metric now: ``{metric, clusterId, cluster,
        revision, value}``."""
        return self._array("GET", "monitor/series")

    def writes(self) -> list[dict[str, Any]]:
        return self._array("GET", "writes")

    def clear_writes(self) -> None:
        self._call("DELETE", "writes")

    def throttled(self) -> dict[str, int]:
        """429s the emulator answered, by bucket (writes, deletes, reads, resourceGraph)."""
        return self._object("GET", "throttled")

    def events(self) -> dict[str, Any]:
        return self._object("GET", "events")

    def reset(self) -> dict[str, Any]:
        return self._object("POST", "reset")
