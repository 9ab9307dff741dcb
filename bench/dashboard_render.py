"""Measure the dashboard on a 1,000-cluster rollout in headless Chromium (reports figures;
asserts nothing).

    .venv/bin/python -m bench.dashboard_render [--clusters 1000] [--sites 20] [--loads 5]

The app runs under devhost on the local stack (App Service authentication on, SQLite store);
the rollout is written straight into the store: one running rollout of `--clusters` clusters
in three waves over `--sites` sites, in every state a rollout shows. Each load opens the
rollout's page afresh in a signed-in Chromium (`make browser-deps`) and times, from the start
of navigation (`performance.now()`), the first render with every cluster's tile on the page;
also the two API answers it waits for (rollout, timeline: size and time) and one refresh
(a poll that changes 10% of the tiles: the time to apply it, in the page).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from selenium.webdriver.chrome.webdriver import WebDriver

from bench.figures import Figure, Size, show
from shared.reasons import Reason
from shared.states import ClusterState, RolloutState, WaveState
from shared.store import ClusterRecord, RolloutRecord, Trigger
from shared.store.rollouts import WaveStatus, WaveSummary
from shared.times import utc_now
from tests.browser.chromium import chromium, missing, open_page, sign_in
from tests.e2e.rollout_support import GOOD, SUB, Stack, running_stack

BENCH = "dashboard_render"
SIZES = {
    Size.FULL: {"clusters": 1000, "sites": 20, "loads": 5},
    Size.SMOKE: {"clusters": 40, "sites": 4, "loads": 1},
}
ROLLOUT = "baseline-bench-1000"
WAVES = (("canary", 0.01), ("early", 0.09), ("broad", 0.90))

FIRST_RENDER = """
const [count, done] = arguments;
const check = () => document.querySelectorAll('.tile').length >= count
  ? done(performance.now()) : requestAnimationFrame(check);
check();
"""
API_TIMES = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/api/ui/api/rollouts/'))
  .map(e => [e.name.split('/api/ui/api')[1], e.responseEnd - e.startTime, e.encodedBodySize]);
"""
WATCH_REFRESH = """
window.refreshMs = null;
const original = window.fetch;
let answered = null;
window.fetch = async (...args) => {
  const response = await original(...args);
  if (/\\/rollouts\\/[^/]+$/.test(String(args[0]))) answered = performance.now();
  return response;
};
const seen = new MutationObserver(() => {
  if (answered === null) return;
  seen.disconnect();
  requestAnimationFrame(() => { window.refreshMs = performance.now() - answered; });
});
seen.observe(document.querySelector('.sites'), {subtree: true, attributes: true, childList: true});
"""
REFRESHED = """
const done = arguments[0];
const check = () => window.refreshMs !== null ? done(window.refreshMs) : setTimeout(check, 50);
check();
"""


def seed(stack: Stack, clusters: int, sites: int) -> None:
    """A running rollout of `clusters` clusters, written into the store."""
    stack.register()
    spec = stack.records.tracks.get("baseline").track_spec()
    now = utc_now()
    sizes = [max(1, round(clusters * share)) for _, share in WAVES]
    sizes[-1] = clusters - sum(sizes[:-1])
    records: list[ClusterRecord] = []
    number = 0
    for (wave, _), size in zip(WAVES, sizes, strict=True):
        for position in range(size):
            number += 1
            state = _state(wave, position, size)
            records.append(
                ClusterRecord(
                    cluster_id=f"/subscriptions/{SUB}/resourceGroups/rg-fleet/providers/"
                    f"Microsoft.Kubernetes/connectedClusters/cluster-{number:04d}",
                    name=f"cluster-{number:04d}",
                    track="baseline",
                    wave=wave,
                    position=position,
                    site=f"site-{number % sites + 1:02d}",
                    desired_revision=GOOD if state is not ClusterState.PENDING else None,
                    state=state,
                    reason=Reason.RECONCILED if state is ClusterState.HEALTHY else Reason.PLANNED,
                    message=f"wave '{wave}', #{position + 1} in write order",
                    last_rollout_id=ROLLOUT,
                    written_at=now if state is not ClusterState.PENDING else None,
                    updated_at=now,
                )
            )
    stack.records.clusters.save_wave(records)
    stack.records.rollouts.save(
        RolloutRecord(
            id=ROLLOUT,
            track="baseline",
            revision=GOOD,
            state=RolloutState.RUNNING,
            reason=Reason.WAVE_STARTED,
            message=f"writing {GOOD[:7]} to wave 'broad'",
            trigger=Trigger(kind="api", actor="bench@contoso.com"),
            created_at=now - timedelta(minutes=5),
            updated_at=now,
            plan=[
                WaveSummary(name=w, clusters=n, max_in_flight=max(1, n // 10))
                for (w, _), n in zip(WAVES, sizes, strict=True)
            ],
            waves=[
                WaveStatus(name="canary", state=WaveState.SUCCEEDED, reason=Reason.WAVE_SUCCEEDED),
                WaveStatus(name="early", state=WaveState.SUCCEEDED, reason=Reason.WAVE_SUCCEEDED),
                WaveStatus(name="broad", state=WaveState.APPLYING, reason=Reason.WAVE_STARTED),
            ],
            spec=spec.to_wire(),
            spec_version="bench",
        )
    )
    for index, (wave, _) in enumerate(WAVES):
        stack.records.timeline.append(
            ROLLOUT,
            f"bench/{index}",
            actor="arcwave",
            reason=Reason.WAVE_STARTED,
            message=f"writing {GOOD[:7]} to wave '{wave}'",
            data={"wave": wave},
        )


def _state(wave: str, position: int, size: int) -> ClusterState:
    if wave != "broad":
        return ClusterState.HEALTHY
    share = position / size
    if share < 0.4:
        return ClusterState.HEALTHY
    if share < 0.45:
        return ClusterState.FAILED if position % 7 == 0 else ClusterState.PROGRESSING
    if share < 0.5:
        return ClusterState.APPLYING
    return ClusterState.PENDING


def change_tenth(stack: Stack) -> None:
    """Move 10% of the pending clusters on, as a poll would find them."""
    pending = [
        c for c in stack.records.clusters.list("baseline") if c.state is ClusterState.PENDING
    ]
    moved = [
        c.model_copy(update={"state": ClusterState.APPLYING, "reason": Reason.REVISION_APPLIED})
        for c in pending[: max(1, len(pending) // 5)]
    ]
    stack.records.clusters.save_wave(moved)


def load(driver: WebDriver, stack: Stack, clusters: int) -> tuple[float, list[list[object]]]:
    open_page(driver, stack.host, f"#/rollouts/{ROLLOUT}")
    driver.set_script_timeout(120)
    first = float(driver.execute_async_script(FIRST_RENDER, clusters))
    return first, list(driver.execute_script(API_TIMES))


def figures(size: Size = Size.FULL) -> list[Figure]:
    return measure(**SIZES[size])


def measure(clusters: int, sites: int, loads: int) -> list[Figure]:
    """First render (median of `loads`), the last load's API answers, one refresh."""
    why = missing()
    if why:
        raise RuntimeError(why)
    with tempfile.TemporaryDirectory(prefix="arcwave-bench-ui-") as tmp:
        folder = Path(tmp)
        with (
            running_stack(folder, easy_auth=True) as stack,
            chromium(folder / "chromium") as driver,
        ):
            seed(stack, clusters, sites)
            sign_in(driver, stack.host, "bench@contoso.com", ["arcwave.Reader"])
            load(driver, stack, clusters)  # warm: Chromium's caches, devhost's imports
            firsts: list[float] = []
            api: list[list[object]] = []
            for _ in range(loads):
                first, api = load(driver, stack, clusters)
                firsts.append(first)
            driver.execute_script(WATCH_REFRESH)
            change_tenth(stack)
            refresh_ms = driver.execute_async_script(REFRESHED)
    what = f"a running rollout of {clusters:,} clusters"
    found = [
        Figure(
            BENCH,
            f"{what}: navigation → every tile on the page (median of {loads})",
            statistics.median(firsts),
            "ms",
            note=f"min {min(firsts):.0f} ms, max {max(firsts):.0f} ms",
        )
    ]
    for name, took, size in api:
        found.append(
            Figure(
                BENCH,
                f"{what}: GET /api/ui/api{str(name).split('?')[0].replace(ROLLOUT, '{id}')}",
                float(took),  # type: ignore[arg-type]
                "ms",
                note=f"{int(size):,} bytes",  # type: ignore[call-overload]
            )
        )
    found.append(
        Figure(
            BENCH,
            f"{what}: a refresh moving 10% of the tiles, answer → next frame",
            float(refresh_ms),
            "ms",
        )
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    full = SIZES[Size.FULL]
    parser.add_argument("--clusters", type=int, default=full["clusters"])
    parser.add_argument("--sites", type=int, default=full["sites"])
    parser.add_argument("--loads", type=int, default=full["loads"])
    args = parser.parse_args()
    show("custom", measure(args.clusters, args.sites, args.loads))


if __name__ == "__main__":
    main()
