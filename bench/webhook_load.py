"""The Git webhook under a burst: 200 signed GitHub deliveries per second for 60 s against
`POST /api/hooks/github` on the local stack, mostly duplicates and ignored refs, as real
bursts are.

The load is open: each request is sent at its planned time whether or not the earlier ones
have been answered, and its latency runs from that planned time to its answer, so a webhook
that falls behind shows in the figures instead of slowing the load down. Every request is
signed with the track's secret. The mix, per 200 requests (full size):

* a new commit on the followed branch every 2 s (30 in all), each newer than the last: the
  distinct pushes, each of which must become exactly one rollout;
* redeliveries of a distinct push already sent (the same body and delivery id) and replays
  of one under a new delivery id: the duplicates, answered `{"duplicate": true}`;
* pushes to branches no track follows, tag pushes, pushes to a repository no track follows
  and pings: ignored.

Figures: p99 (target ≤ 50 ms), p50 and the slowest answer; errors (anything but 200 or 202,
or no answer: target 0); distinct pushes that did not become exactly one rollout, read from
the app's store (target 0); and the rate the load kept.

    .venv/bin/python -m bench.webhook_load [--size smoke] [--rate N --seconds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.figures import Figure, Size, at_most, percentile, show
from bench.pushes import BASE, REPO, SUB, commit, github_push, signed
from bench.stack import Stack, local_stack

BENCH = "webhook_load"
OTHER_REPO = "https://github.com/contoso/unrelated-service"
SECRET = "bench-webhook-secret-webhook-load"
P99_TARGET = 0.050
"""Seconds: the acceptance for the webhook's p99 under the burst."""
ANSWER_TIMEOUT = 30.0

MIX = (
    ("redelivery", 0.30),
    ("replay", 0.10),
    ("other branch", 0.25),
    ("tag", 0.15),
    ("other repository", 0.15),
    ("ping", 0.05),
)
"""What the requests between the distinct pushes are, and their shares."""

TRACK = {
    "name": "bench",
    "source": {"url": REPO, "branch": "main"},
    "configuration": {"name": "bench", "kustomizations": {"infra": {"path": "./infra"}}},
    "fleet": {"subscriptions": [SUB]},
    "waves": [{"name": "canary", "selector": {"ring": "canary"}}, {"name": "rest"}],
}


@dataclass(frozen=True)
class Load:
    """`rate` requests per second for `seconds`, a distinct push every `every` seconds."""

    rate: int
    seconds: float
    every: float

    @property
    def requests(self) -> int:
        return round(self.rate * self.seconds)


LOADS = {Size.FULL: Load(rate=200, seconds=60, every=2.0), Size.SMOKE: Load(20, 3, 1.0)}


@dataclass(frozen=True)
class Request:
    """One delivery: when to send it (seconds from the start), what it is, and its bytes."""

    at: float
    kind: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int | None
    """None: no answer (a connection error or the timeout)."""
    seconds: float


def scenario() -> dict[str, Any]:
    return {
        "subscriptionId": SUB,
        "defaults": {"resourceGroup": "rg-fleet", "location": "westeurope"},
        "clusters": [
            {"name": "canary-1", "tags": {"ring": "canary"}},
            {"generate": {"count": 5, "name": "edge-{i:02d}", "sites": 5, "tags": {}}},
        ],
        "flux": {"branchHeads": {"main": BASE}, "reconcileSeconds": {"min": 0.2, "max": 0.4}},
    }


def plan(load: Load, seed: int = 18) -> tuple[list[Request], list[str]]:
    """Every request in the order it is sent, and the distinct pushes' commits."""
    rng = random.Random(seed)
    requests: list[Request] = []
    distinct: list[tuple[str, bytes, str]] = []
    pushed_at = int(time.time())
    kinds, weights = zip(*MIX, strict=True)
    for n in range(load.requests):
        at = n / load.rate
        if len(distinct) <= at // load.every:
            sha, previous = commit(f"webhook-load-{len(distinct)}"), _last(distinct)
            body = github_push(REPO, sha, previous, pushed_at + len(distinct))
            delivery = f"distinct-{len(distinct)}"
            distinct.append((sha, body, delivery))
            requests.append(Request(at, "distinct", body, signed(SECRET, body, delivery)))
            continue
        kind = rng.choices(kinds, weights)[0]
        _, body, delivery = rng.choice(distinct)
        if kind == "replay":
            delivery = f"replay-{n}"
        elif kind == "other branch":
            branch = f"feature/change-{rng.randrange(40)}"
            body = github_push(REPO, commit(f"branch-{n}"), BASE, pushed_at, branch=branch)
            delivery = f"branch-{n}"
        elif kind == "tag":
            body = _tag_push(commit(f"tag-{n}"), pushed_at)
            delivery = f"tag-{n}"
        elif kind == "other repository":
            body = github_push(OTHER_REPO, commit(f"other-{n}"), BASE, pushed_at)
            delivery = f"other-{n}"
        elif kind == "ping":
            body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
            headers = signed(SECRET, body, f"ping-{n}") | {"X-GitHub-Event": "ping"}
            requests.append(Request(at, kind, body, headers))
            continue
        requests.append(Request(at, kind, body, signed(SECRET, body, delivery)))
    return requests, [sha for sha, _, _ in distinct]


def _last(distinct: list[tuple[str, bytes, str]]) -> str:
    return distinct[-1][0] if distinct else BASE


def _tag_push(sha: str, pushed_at: int) -> bytes:
    """A GitHub push of a new tag (arcwave follows branches only)."""
    push = json.loads(github_push(REPO, sha, "0" * 40, pushed_at))
    return json.dumps(push | {"ref": "refs/tags/v1.0.0", "created": True}).encode()


async def send(url: str, requests: list[Request]) -> tuple[list[Answer], float]:
    """Send every request at its planned time; the answers and the seconds the load took."""
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def one(request: Request) -> Answer:
            planned = start + request.at
            await asyncio.sleep(max(0.0, planned - loop.time()))
            try:
                async with session.post(url, data=request.body, headers=request.headers) as reply:
                    await reply.read()
                    status: int | None = reply.status
            except (aiohttp.ClientError, TimeoutError):
                status = None
            return Answer(request.kind, status, loop.time() - planned)

        answers = await asyncio.gather(*(one(r) for r in requests))
        return list(answers), loop.time() - start


def figures(size: Size = Size.FULL) -> list[Figure]:
    return measure(LOADS[size])


def measure(load: Load) -> list[Figure]:
    requests, distinct = plan(load)
    env = {"ARCWAVE_WEBHOOK_SECRET": SECRET}
    with local_stack(scenario(), env=env, prefix="arcwave-bench-webhook-") as stack:
        code, answer = stack.api("PUT", "tracks/bench", TRACK)
        if code != 201:
            raise RuntimeError(f"registering the track answered {code}: {answer}")
        answers, took = asyncio.run(send(stack.host.url("/api/hooks/github"), requests))
        rollouts = _rollouts_per_revision(stack)
    return _figures(load, answers, took, distinct, rollouts)


def _rollouts_per_revision(stack: Stack) -> Counter[str]:
    return Counter(r.revision for r in stack.records().rollouts.list(track="bench"))


def _figures(
    load: Load,
    answers: list[Answer],
    took: float,
    distinct: list[str],
    rollouts: Counter[str],
) -> list[Figure]:
    label = f"{load.rate}/s for {load.seconds:g} s"
    latencies = [a.seconds for a in answers]
    statuses = Counter(a.status for a in answers)
    errors = sum(n for status, n in statuses.items() if status not in (200, 202))
    kinds = Counter(a.kind for a in answers)
    wrong = [sha for sha in distinct if rollouts[sha] != 1]
    strays = sum(n for sha, n in rollouts.items() if sha not in distinct)
    return [
        Figure(
            BENCH,
            f"{label}: answer time p99",
            percentile(latencies, 0.99) * 1000,
            "ms",
            at_most(P99_TARGET * 1000),
            f"{len(answers):,} requests: " + ", ".join(f"{k} {n:,}" for k, n in kinds.items()),
        ),
        Figure(BENCH, f"{label}: answer time p50", statistics.median(latencies) * 1000, "ms"),
        Figure(BENCH, f"{label}: slowest answer", max(latencies) * 1000, "ms"),
        Figure(
            BENCH,
            f"{label}: errors (not 200/202, or no answer)",
            float(errors),
            "",
            at_most(0),
            ", ".join(f"{s or 'none'}: {n:,}" for s, n in sorted(statuses.items(), key=str)),
        ),
        Figure(
            BENCH,
            f"{label}: distinct pushes without exactly one rollout",
            float(len(wrong) + strays),
            "",
            at_most(0),
            f"{len(distinct)} distinct pushes, {sum(rollouts.values())} rollouts",
        ),
        Figure(
            BENCH,
            f"{label}: rate kept",
            len(answers) / took,
            "requests/s",
            None,
            f"{len(answers):,} in {took:.1f} s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=Size, choices=list(Size), default=Size.FULL)
    parser.add_argument("--rate", type=int, help="with --seconds: one load of that rate")
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    if args.rate and args.seconds:
        show("custom", measure(Load(args.rate, args.seconds, every=2.0)))
    else:
        show(args.size, figures(args.size))


if __name__ == "__main__":
    main()
