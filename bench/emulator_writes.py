"""Sustained ARM write handling on the 5,000-cluster scenario, then Resource Graph over the result.

PUTs one fluxConfiguration per cluster with a fixed number of requests in flight, and reports
writes per second, latency percentiles, the status codes seen, how long Flux took until
Resource Graph reported every online cluster Compliant, and the compliance query time with
5,000 configurations. It asserts nothing.

Run: .venv/bin/python -m bench.emulator_writes [--concurrency 32] [--clusters 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.figures import Figure, Size, percentile, show
from bench.stack import FLEET_5000, emulator_process, fleet_5000, scenario_file
from emulator.scenario import load_scenario

BENCH = "emulator_writes"
SIZES = {
    Size.FULL: {"scale": 1.0, "concurrency": 32, "timeout": 60.0},
    Size.SMOKE: {"scale": 0.02, "concurrency": 8, "timeout": 30.0},
}

HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
BODY = {
    "properties": {
        "scope": "cluster",
        "namespace": "flux-system",
        "sourceKind": "GitRepository",
        "gitRepository": {
            "url": "https://github.com/contoso/fleet-config",
            "repositoryRef": {
                "branch": "main",
                "commit": "3f2a1c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
            },
        },
        "kustomizations": {
            "infra": {"path": "./infrastructure", "prune": True},
            "apps": {"path": "./apps", "dependsOn": ["infra"]},
        },
    }
}
COMPLIANCE_QUERY = (
    "kubernetesconfigurationresources "
    "| where type =~ 'microsoft.kubernetesconfiguration/fluxconfigurations' "
    "| where tostring(properties.complianceState) == 'Compliant' | count"
)


async def put_all(
    session: aiohttp.ClientSession, endpoint: str, paths: list[str], concurrency: int
) -> tuple[float, list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    payload = json.dumps(BODY)

    async def worker() -> None:
        while not queue.empty():
            path = queue.get_nowait()
            start = time.perf_counter()
            async with session.put(endpoint + path, data=payload, headers=HEADERS) as response:
                await response.read()
                statuses[response.status] += 1
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, statuses


async def graph(session: aiohttp.ClientSession, endpoint: str, text: str) -> tuple[float, Any]:
    start = time.perf_counter()
    async with session.post(
        endpoint + "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01",
        json={"query": text},
        headers=HEADERS,
    ) as response:
        body = await response.json()
    return (time.perf_counter() - start) * 1000, body


def figures(size: Size = Size.FULL) -> list[Figure]:
    config = SIZES[size]
    with tempfile.TemporaryDirectory(prefix="arcwave-bench-writes-") as tmp:
        path = scenario_file(fleet_5000(config["scale"]), Path(tmp))
        options = argparse.Namespace(
            scenario=path,
            clusters=100_000,
            concurrency=int(config["concurrency"]),
            timeout=config["timeout"],
        )
        return asyncio.run(run(options))


async def run(args: argparse.Namespace) -> list[Figure]:
    scenario = load_scenario(args.scenario)
    clusters = scenario.expand_clusters()[: args.clusters]
    offline = set(scenario.faults.offline)
    paths = [
        f"/subscriptions/{c.subscription_id}/resourceGroups/{c.resource_group}/providers"
        f"/Microsoft.Kubernetes/connectedClusters/{c.name}/providers"
        "/Microsoft.KubernetesConfiguration/fluxConfigurations/baseline?api-version=2025-04-01"
        for c in clusters
    ]
    online = sum(1 for c in clusters if c.name not in offline)
    with emulator_process(args.scenario) as running:
        context = ssl.create_default_context(cafile=str(running.cert_path))
        connector = aiohttp.TCPConnector(ssl=context, limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            elapsed, latencies, statuses = await put_all(
                session, running.endpoint, paths, args.concurrency
            )
            written = time.perf_counter()
            compliant = 0
            while compliant < online and time.perf_counter() - written < args.timeout:
                _, body = await graph(session, running.endpoint, COMPLIANCE_QUERY)
                compliant = body["data"][0]["Count"]
                await asyncio.sleep(0.25)
            reconciled = time.perf_counter() - written
            text = (
                "kubernetesconfigurationresources | project id, name, "
                "complianceState = tostring(properties.complianceState), "
                "syncedCommit = tostring(properties.sourceSyncedCommitId)"
            )
            samples = [(await graph(session, running.endpoint, text))[0] for _ in range(10)]
    n = len(paths)
    refused = sum(count for status, count in statuses.items() if status not in (200, 201))
    return [
        Figure(
            BENCH,
            f"{n:,} PUTs, {args.concurrency} in flight: throughput",
            n / elapsed,
            "writes/s",
            note=f"statuses {dict(statuses)}",
        ),
        Figure(
            BENCH,
            f"{n:,} PUTs: latency p95",
            percentile(latencies, 0.95),
            "ms",
            note=f"p50 {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms",
        ),
        Figure(BENCH, f"{n:,} PUTs: answers other than 200/201", float(refused)),
        Figure(
            BENCH,
            f"{n:,} PUTs: last write → every online cluster Compliant in Resource Graph",
            reconciled,
            "s",
            note=f"{compliant}/{online} Compliant",
        ),
        Figure(
            BENCH,
            f"Resource Graph: compliance of {n:,} configurations, first 1,000 rows (median)",
            statistics.median(samples),
            "ms",
            note=f"max {max(samples):.1f} ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    full = SIZES[Size.FULL]
    parser.add_argument("--scenario", type=Path, default=FLEET_5000)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=full["concurrency"])
    parser.add_argument("--timeout", type=float, default=full["timeout"])
    show("custom", asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
