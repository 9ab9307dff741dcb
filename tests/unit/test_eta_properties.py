"""ETA properties over random waves, windows and budgets (hypothesis).

Whatever the fleet, windows and limits, the predicted schedule never writes a cluster outside
one of its maintenance windows, never writes more in any interval than its subscription's
bucket allows (burst + rate * length), never has more clusters in flight than the wave's
window (nor more of one site than its cap), writes every cluster exactly once when it says the
rollout finishes, and runs the waves one after another. Write times are checked against
independent oracles (croniter's previous opening, a plain count), not the simulator's own.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.eta import ClusterInput, WaveInput, Write, WriteBudget, simulate
from shared.eta_model import Eta, ReconcileEta, ReconcileSource
from shared.trackspec.windows import MaintenanceWindow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUBS = ["s1", "s2", "s3"]
SITES = [None, "a", "b", "c"]


@st.composite
def window(draw: st.DrawFn, name: str) -> MaintenanceWindow:
    # Short windows next to a slow bucket are where a write could slip past a window's end.
    duration = timedelta(minutes=draw(st.sampled_from([1, 2, 5, 30, 90, 8 * 60])))
    if draw(st.booleans()):
        start = T0 + timedelta(minutes=draw(st.integers(min_value=-600, max_value=4 * 24 * 60)))
        return MaintenanceWindow(name=name, start=start, duration=duration)
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    hour = draw(st.integers(min_value=0, max_value=23))
    days = draw(st.sampled_from(["*", "1-5", "6,0", "2", "*/2"]))
    return MaintenanceWindow(name=name, schedule=f"{minute} {hour} * * {days}", duration=duration)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[WaveInput], WriteBudget, datetime]:
    pool = [draw(window(f"w{i}")) for i in range(draw(st.integers(min_value=0, max_value=3)))]
    waves = []
    for number in range(draw(st.integers(min_value=1, max_value=3))):
        members = []
        for index in range(draw(st.integers(min_value=0, max_value=30))):
            chosen = (
                draw(st.lists(st.sampled_from(pool), max_size=2, unique_by=lambda w: w.name))
                if pool
                else []
            )
            members.append(
                ClusterInput(
                    id=f"v{number}-c{index}",
                    subscription=draw(st.sampled_from(SUBS)),
                    site=draw(st.sampled_from(SITES)),
                    windows=tuple(chosen),
                    skip=draw(st.integers(min_value=0, max_value=9)) == 0,
                )
            )
        seconds = draw(st.integers(min_value=1, max_value=3 * 3600))
        waves.append(
            WaveInput(
                name=f"v{number}",
                clusters=members,
                max_in_flight=draw(st.integers(min_value=1, max_value=12)),
                max_per_site=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=3))),
                reconcile=ReconcileEta(
                    duration=timedelta(seconds=seconds), source=ReconcileSource.DEFAULT
                ),
                soak=timedelta(minutes=draw(st.integers(min_value=0, max_value=90))),
                approval=draw(st.booleans()),
            )
        )
    # Small bursts make writes wait for tokens, the case the bucket property is about.
    budget = WriteBudget(
        burst=draw(st.sampled_from([1, 1, 2, 3, 5, 15])),
        per_second=draw(st.sampled_from([0.01, 0.02, 0.05, 0.2, 1.0, 3.0])),
    )
    as_of = T0 + timedelta(seconds=draw(st.integers(min_value=0, max_value=86_400)))
    return waves, budget, as_of


def run(case: tuple[list[WaveInput], WriteBudget, datetime]) -> tuple[Eta, list[Write]]:
    waves, budget, as_of = case
    trace: list[Write] = []
    return simulate(waves, budget, as_of, trace=trace), trace


def opening_holds(window: MaintenanceWindow, at: datetime) -> bool:
    """The oracle: the latest opening at or before `at` still lasts at `at`."""
    if window.start is not None:
        return window.start <= at < window.start + window.duration
    assert window.schedule is not None
    latest = croniter(window.schedule, at + timedelta(seconds=1)).get_prev(datetime)
    return latest <= at < latest + window.duration


PROPERTIES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(scenario())
def test_no_write_is_predicted_outside_its_windows(
    case: tuple[list[WaveInput], WriteBudget, datetime],
) -> None:
    _, trace = run(case)
    by_id = {c.id: c for w in case[0] for c in w.clusters}
    for write in trace:
        for window in by_id[write.cluster].windows:
            assert opening_holds(window, write.at), (write, window)


@PROPERTIES
@given(scenario())
def test_no_interval_holds_more_writes_than_the_bucket_allows(
    case: tuple[list[WaveInput], WriteBudget, datetime],
) -> None:
    waves, budget, _ = case
    _, trace = run(case)
    by_id = {c.id: c for w in waves for c in w.clusters}
    per_sub: dict[str, list[datetime]] = defaultdict(list)
    for write in trace:
        per_sub[by_id[write.cluster].subscription].append(write.at)
    for times in per_sub.values():
        times.sort()
        # The tightest intervals run from one write to another: check every such pair.
        for i, first in enumerate(times):
            for j in range(i, len(times)):
                span = (times[j] - first).total_seconds()
                assert j - i + 1 <= budget.burst + budget.per_second * span + 1e-6, (i, j, span)


@PROPERTIES
@given(scenario())
def test_the_window_never_holds_more_than_its_caps(
    case: tuple[list[WaveInput], WriteBudget, datetime],
) -> None:
    waves, _, _ = case
    _, trace = run(case)
    by_id = {c.id: c for w in waves for c in w.clusters}
    for wave in waves:
        mine = [w for w in trace if w.wave == wave.name]
        # Sweep: a settle at t frees its slot before a write at t takes one.
        events = sorted(
            [(w.at, 1, w.cluster) for w in mine] + [(w.settles, 0, w.cluster) for w in mine]
        )
        flying: Counter[str] = Counter()
        total = 0
        for _, kind, cluster in events:
            site = by_id[cluster].site or f"id:{cluster}"
            step = 1 if kind else -1
            flying[site] += step
            total += step
            assert total <= wave.max_in_flight
            if wave.max_per_site is not None:
                assert flying[site] <= wave.max_per_site


@PROPERTIES
@given(scenario())
def test_a_rollout_that_finishes_writes_every_cluster_once_wave_after_wave(
    case: tuple[list[WaveInput], WriteBudget, datetime],
) -> None:
    waves, _, as_of = case
    eta, trace = run(case)
    written = Counter(w.cluster for w in trace)
    assert all(n == 1 for n in written.values())
    assert all(w.at >= as_of for w in trace)
    if eta.finish is not None:
        expected = {c.id for w in waves for c in w.clusters if not c.skip}
        assert set(written) == expected
    previous_finish = as_of
    for wave, predicted in zip(waves, eta.waves, strict=True):
        mine = [w for w in trace if w.wave == wave.name]
        if predicted.finish is None:
            assert predicted.blocked
            break
        assert all(w.at >= previous_finish for w in mine)
        assert all(w.settles + wave.soak <= predicted.finish for w in mine)
        assert sum(len(b.clusters) for b in predicted.batches) == len(mine)
        previous_finish = predicted.finish
    assert eta.finish is None or eta.finish == previous_finish
