"""Resource Graph query time over the 5,000-cluster scenario (target: under 200 ms).

Measures the slowest of four queries (median of `rounds`) three ways; it asserts nothing:
* in-process: compile + run the query over the fleet's tables (the emulator's own cost);
* over HTTPS: the real azure-mgmt-resourcegraph client against ``python -m emulator``, and the
  same POST with ``requests`` alone (the SDK spends most of its time deserialising large pages).

Run: .venv/bin/python -m bench.emulator_graph [--scenario scenarios/fleet-5000.yaml] [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from bench.figures import Figure, Size, at_most, show
from bench.stack import FLEET_5000, emulator_process, fleet_5000, scenario_file
from emulator.backend import Backend
from emulator.resourcegraph.models import GraphRequest, run_query
from emulator.scenario import load_scenario
from emulator.testing import StaticTokenCredential

BENCH = "emulator_graph"
TARGET_MS = 200.0
SIZES = {Size.FULL: {"scale": 1.0, "rounds": 20}, Size.SMOKE: {"scale": 0.02, "rounds": 2}}

AUTH = {"Authorization": "Bearer bench"}
QUERIES = {
    "clusters by ring (tags)": (
        "resources | where type =~ 'microsoft.kubernetes/connectedclusters' "
        "| where tags['ring'] == 'early' "
        "| extend connectivityStatus = tostring(properties.connectivityStatus) "
        "| project id, name, resourceGroup, subscriptionId, tags, connectivityStatus"
    ),
    "all clusters, first page of 1000": (
        "resources | where type =~ 'microsoft.kubernetes/connectedclusters' "
        "| project id, name, location, tags, properties"
    ),
    "offline clusters in two sites": (
        "resources | where type =~ 'microsoft.kubernetes/connectedclusters' "
        "and tostring(properties.connectivityStatus) in~ ('offline', 'expired') "
        "and tags['site'] in ('site-7', 'site-8') | project id, name | order by name asc"
    ),
    "flux compliance": (
        "kubernetesconfigurationresources "
        "| where type =~ 'microsoft.kubernetesconfiguration/fluxconfigurations' "
        "| project id, name, complianceState = tostring(properties.complianceState), "
        "syncedCommit = tostring(properties.sourceSyncedCommitId)"
    ),
}


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return statistics.median(samples), p95, samples[-1]


def with_configurations(backend: Backend) -> None:
    properties = {
        "gitRepository": {
            "url": "https://github.com/contoso/fleet",
            "repositoryRef": {"branch": "main"},
        },
        "kustomizations": {"infra": {"path": "./infra"}, "apps": {"dependsOn": ["infra"]}},
    }
    for cluster in backend.clusters.values():
        backend.put_configuration(cluster, "baseline", properties, "2025-04-01")
    backend.reconcile_now()


def figures(size: Size = Size.FULL) -> list[Figure]:
    config = SIZES[size]
    with tempfile.TemporaryDirectory(prefix="arcwave-bench-graph-") as tmp:
        path = scenario_file(fleet_5000(config["scale"]), Path(tmp))
        return measure(path, int(config["rounds"]))


def measure(path: Path, rounds: int) -> list[Figure]:
    """The slowest query's median, in-process, through the SDK and as a raw POST."""
    scenario = load_scenario(path)
    backend = Backend(scenario)
    clusters = len(backend.clusters)
    with_configurations(backend)
    inside: dict[str, float] = {}
    for label, text in QUERIES.items():
        request = GraphRequest(text, [scenario.subscription_id], 1000, 0, None, "objectArray")
        inside[label] = timed(lambda r=request: run_query(backend, r), rounds)[0]
    sdk, raw = _over_https(path, scenario.subscription_id, rounds)
    return [
        _slowest(f"{clusters:,} clusters, in-process (median)", inside, at_most(TARGET_MS)),
        _slowest(f"{clusters:,} clusters, over HTTPS with the SDK (median)", sdk, None),
        _slowest(f"{clusters:,} clusters, over HTTPS, raw POST (median)", raw, at_most(TARGET_MS)),
    ]


def _slowest(what: str, medians: dict[str, float], target: object) -> Figure:
    label = max(medians, key=lambda k: medians[k])
    return Figure(
        BENCH,
        f"Resource Graph query, slowest of {len(medians)}, {what}",
        medians[label],
        "ms",
        target,  # type: ignore[arg-type]
        label,
    )


def _over_https(
    path: Path, subscription: str, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each query's median over HTTPS (no flux configurations written): with the SDK, and
    as a raw POST with `requests`."""
    sdk: dict[str, float] = {}
    raw: dict[str, float] = {}
    with (
        emulator_process(path) as running,
        ResourceGraphClient(
            StaticTokenCredential(),
            base_url=running.endpoint,
            connection_verify=str(running.cert_path),
        ) as client,
        requests.Session() as session,
    ):
        for label, text in QUERIES.items():
            query = QueryRequest(
                subscriptions=[subscription],
                query=text,
                options=QueryRequestOptions(top=1000),
            )
            sdk[label] = timed(lambda q=query: client.resources(q), rounds)[0]
        url = (
            running.endpoint + "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
        )
        verify = str(running.cert_path)
        for label, text in QUERIES.items():
            body = {"subscriptions": [subscription], "query": text}

            def post(body: dict[str, object] = body) -> object:
                return session.post(url, json=body, headers=AUTH, verify=verify, timeout=30).json()

            raw[label] = timed(post, rounds)[0]
    return sdk, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=FLEET_5000)
    parser.add_argument("--rounds", type=int, default=SIZES[Size.FULL]["rounds"])
    args = parser.parse_args()
    show("custom", measure(args.scenario, args.rounds))


if __name__ == "__main__":
    main()
