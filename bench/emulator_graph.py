"""Resource Graph query time over the 5,000-cluster scenario (target: under 200 ms).

Measures two things and prints them; it asserts nothing:
* in-process: compile + run the query over the fleet's tables (the emulator's own cost);
* over HTTPS: the real azure-mgmt-resourcegraph client against ``python -m emulator``, and the
  same POST with ``requests`` alone (the SDK spends most of its time deserialising large pages).

Run: .venv/bin/python bench/emulator_graph.py [--scenario scenarios/fleet-5000.yaml] [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import requests
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from emulator_process import ROOT, emulator_process

from emulator.backend import Backend
from emulator.resourcegraph.models import GraphRequest, run_query
from emulator.scenario import load_scenario
from emulator.testing import StaticTokenCredential

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
    "flux compliance (5000 configs)": (
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "fleet-5000.yaml")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)

    start = time.perf_counter()
    backend = Backend(scenario)
    print(f"fleet: {len(backend.clusters)} clusters loaded in {time.perf_counter() - start:.2f}s")
    with_configurations(backend)
    print("\nin-process query time (ms)        median     p95     max")
    for label, text in QUERIES.items():
        request = GraphRequest(text, [scenario.subscription_id], 1000, 0, None, "objectArray")
        median, p95, worst = timed(lambda r=request: run_query(backend, r), args.rounds)
        print(f"  {label:32} {median:7.1f} {p95:7.1f} {worst:7.1f}")

    print("\nover HTTPS with azure-mgmt-resourcegraph (ms), no flux configurations written")
    with (
        emulator_process(args.scenario) as running,
        ResourceGraphClient(
            StaticTokenCredential(),
            base_url=running.endpoint,
            connection_verify=str(running.cert_path),
        ) as client,
        requests.Session() as session,
    ):
        for label, text in QUERIES.items():
            query = QueryRequest(
                subscriptions=[scenario.subscription_id],
                query=text,
                options=QueryRequestOptions(top=1000),
            )
            median, p95, worst = timed(lambda q=query: client.resources(q), args.rounds)
            print(f"  {label:32} {median:7.1f} {p95:7.1f} {worst:7.1f}")
        print("\nthe same over HTTPS as a raw POST with requests, no SDK deserialising (ms)")
        url = (
            running.endpoint + "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
        )
        verify = str(running.cert_path)
        for label, text in QUERIES.items():
            body = {"subscriptions": [scenario.subscription_id], "query": text}

            def post(body: dict[str, object] = body) -> object:
                return session.post(url, json=body, headers=AUTH, verify=verify, timeout=30).json()

            median, p95, worst = timed(post, args.rounds)
            print(f"  {label:32} {median:7.1f} {p95:7.1f} {worst:7.1f}")


if __name__ == "__main__":
    main()
