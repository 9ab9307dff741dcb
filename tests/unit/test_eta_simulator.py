"""The schedule simulator (`shared.eta`): write budget pacing per subscription, the in-flight
window, maintenance windows, soak, approvals, batches, and a running rollout's remainder."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.eta import ClusterInput, Phase, WaveInput, Write, WriteBudget, simulate
from shared.eta_model import ReconcileEta, ReconcileSource, iso_duration
from shared.trackspec.windows import MaintenanceWindow

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday, noon UTC
BUDGET = WriteBudget(burst=100, per_second=10)
TWO_MINUTES = ReconcileEta(duration=timedelta(minutes=2), source=ReconcileSource.TRACK)


def clusters(count: int, sub: str = "s1", prefix: str = "c", **extra: object) -> list[ClusterInput]:
    return [ClusterInput(id=f"{prefix}{i}", subscription=sub, **extra) for i in range(count)]  # type: ignore[arg-type]


def wave(name: str, members: list[ClusterInput], **fields: object) -> WaveInput:
    values: dict[str, object] = {"max_in_flight": len(members) or 1, "reconcile": TWO_MINUTES}
    values.update(fields)
    return WaveInput(name=name, clusters=members, **values)  # type: ignore[arg-type]


def nightly(name: str = "night", hour: int = 22, hours: int = 2) -> MaintenanceWindow:
    return MaintenanceWindow(name=name, schedule=f"0 {hour} * * *", duration=timedelta(hours=hours))


def test_a_thousand_writes_in_one_subscription_take_what_the_bucket_refills() -> None:
    trace: list[Write] = []
    eta = simulate([wave("all", clusters(1000))], BUDGET, T0, trace=trace)
    writes = sorted(w.at for w in trace)
    assert len(writes) == 1000
    assert writes[99] == T0  # the burst goes at once
    assert writes[100] == T0 + timedelta(seconds=0.1)
    assert writes[-1] - writes[0] == timedelta(seconds=(1000 - 100) / 10)
    only = eta.wave("all")
    assert only.last_write == T0 + timedelta(seconds=90)
    assert only.finish == T0 + timedelta(seconds=90, minutes=2)
    assert eta.finish == only.finish and eta.duration == timedelta(seconds=210)
    assert len(only.batches) == 1  # one fill of a window as big as the wave


def test_two_subscriptions_spend_their_own_buckets_at_the_same_time() -> None:
    members = clusters(500, "s1", "a") + clusters(500, "s2", "b")
    trace: list[Write] = []
    eta = simulate([wave("all", members)], BUDGET, T0, trace=trace)
    for prefix in ("a", "b"):
        mine = sorted(w.at for w in trace if w.cluster.startswith(prefix))
        assert mine[-1] - T0 == timedelta(seconds=(500 - 100) / 10)
    assert eta.finish == T0 + timedelta(seconds=40, minutes=2)


def test_the_window_caps_clusters_in_flight_and_refills_as_they_settle() -> None:
    eta = simulate([wave("w", clusters(10), max_in_flight=4)], BUDGET, T0)
    batches = eta.wave("w").batches
    assert [len(b.clusters) for b in batches] == [4, 4, 2]
    assert [b.start - T0 for b in batches] == [timedelta(minutes=m) for m in (0, 2, 4)]
    assert eta.finish == T0 + timedelta(minutes=6)


def test_per_site_caps_hold_back_a_site_while_others_go() -> None:
    members = [
        ClusterInput(id=f"{s}{i}", subscription="s1", site=s) for s in "ab" for i in range(3)
    ]
    eta = simulate([wave("w", members, max_in_flight=6, max_per_site=1)], BUDGET, T0)
    assert [b.clusters for b in eta.wave("w").batches] == [
        ["a0", "b0"],
        ["a1", "b1"],
        ["a2", "b2"],
    ]


def test_writes_wait_for_the_maintenance_window_and_stay_inside_it() -> None:
    members = clusters(6, windows=(nightly(),))
    trace: list[Write] = []
    eta = simulate(
        [wave("w", members, max_in_flight=2, reconcile=_hours(1))], BUDGET, T0, trace=trace
    )
    tonight = T0.replace(hour=22)
    # 22:00 and 23:00 tonight; the third pair waits for tomorrow night's opening.
    assert sorted({w.at for w in trace}) == [
        tonight,
        tonight + timedelta(hours=1),
        tonight + timedelta(days=1),
    ]
    waits = eta.wave("w").waits
    assert (
        waits[0] == "maintenance window: nothing can be written until 2026-01-05T22:00:00.000000Z"
    )
    assert eta.finish == tonight + timedelta(days=1, hours=1)


def test_a_write_whose_token_comes_after_the_window_closes_waits_for_the_next_opening() -> None:
    short = MaintenanceWindow(name="short", schedule="0 22 * * *", duration=timedelta(seconds=5))
    members = clusters(3, windows=(short,))
    trace: list[Write] = []
    slow = WriteBudget(burst=1, per_second=0.1)  # one write every 10 s
    simulate([wave("w", members)], slow, T0, trace=trace)
    tonight = T0.replace(hour=22)
    assert [w.at for w in trace] == [
        tonight,
        tonight + timedelta(days=1),
        tonight + timedelta(days=2),
    ]


def test_a_window_that_never_opens_leaves_the_rollout_without_a_finish() -> None:
    gone = MaintenanceWindow(
        name="gone", start=datetime(2025, 1, 1, tzinfo=UTC), duration=timedelta(hours=1)
    )
    eta = simulate(
        [wave("w", clusters(2, windows=(gone,))), wave("next", clusters(1, prefix="n"))],
        BUDGET,
        T0,
    )
    assert eta.finish is None and eta.duration is None
    assert "2 cluster(s) (c0, c1) have no time" in (eta.wave("w").blocked or "")
    assert eta.wave("next").blocked == "an earlier wave never finishes"


def test_soak_comes_after_the_last_verdict_and_before_the_next_wave() -> None:
    eta = simulate(
        [
            wave("canary", clusters(2, prefix="c"), soak=timedelta(minutes=10)),
            wave("rest", clusters(4, prefix="r")),
        ],
        BUDGET,
        T0,
    )
    canary, rest = eta.waves
    assert canary.healthy == T0 + timedelta(minutes=2)
    assert canary.finish == T0 + timedelta(minutes=12)
    assert rest.ready == rest.start == canary.finish
    assert eta.finish == T0 + timedelta(minutes=14)


def test_an_approval_is_an_unknown_wait_and_the_times_assume_it_at_once() -> None:
    eta = simulate(
        [wave("canary", clusters(1, prefix="c")), wave("broad", clusters(3), approval=True)],
        BUDGET,
        T0,
    )
    broad = eta.wave("broad")
    assert broad.waits == ["approval: unknown wait"]
    assert eta.unknown_waits == ["wave 'broad' approval: unknown wait"]
    assert broad.start == T0 + timedelta(minutes=2)
    assert "unknown waits, assumed to end at once" in eta.note


def test_a_running_rollout_counts_only_what_is_left() -> None:
    now = T0 + timedelta(minutes=30)
    done = wave("canary", [], phase=Phase.DONE)
    flying = [
        ClusterInput(id="f1", subscription="s1", written_at=now - timedelta(minutes=1)),
        ClusterInput(id="f2", subscription="s1", written_at=now - timedelta(minutes=5)),
    ]
    running = wave(
        "early",
        [*flying, *clusters(2, prefix="p")],
        max_in_flight=2,
        phase=Phase.RUNNING,
        started=T0 + timedelta(minutes=20),
    )
    later = wave("broad", clusters(2, prefix="b"), approval=True)
    eta = simulate([done, running, later], BUDGET, now, paused=True)
    early = eta.wave("early")
    first, second = early.batches
    assert first.written and first.clusters == ["f1", "f2"]
    # f2 is overdue: it settles now; f1 at its write + 2m.
    assert second.clusters == ["p0", "p1"]
    assert second.start == now and first.finish == now + timedelta(minutes=1)
    assert early.start == T0 + timedelta(minutes=20)
    assert early.finish == now + timedelta(minutes=3)
    assert eta.wave("canary").finish is None and eta.wave("canary").phase == "done"
    assert eta.unknown_waits == ["paused: unknown wait", "wave 'broad' approval: unknown wait"]
    assert eta.finish == now + timedelta(minutes=5)


def test_a_soaking_wave_ends_its_soak_first() -> None:
    ends = T0 + timedelta(minutes=7)
    eta = simulate(
        [wave("canary", [], phase=Phase.SOAKING, soak_ends=ends), wave("rest", clusters(1))],
        BUDGET,
        T0,
    )
    assert eta.wave("canary").finish == ends
    assert eta.wave("rest").start == ends


def test_skipped_offline_clusters_take_no_slot_and_no_time() -> None:
    members = [ClusterInput(id="off", subscription="s1", skip=True), *clusters(2)]
    eta = simulate([wave("w", members, max_in_flight=2)], BUDGET, T0)
    only = eta.wave("w")
    assert (only.clusters, only.skipped) == (2, 1)
    assert [b.clusters for b in only.batches] == [["c0", "c1"]]


def test_an_empty_wave_takes_no_time() -> None:
    eta = simulate([wave("empty", []), wave("w", clusters(1))], BUDGET, T0)
    assert eta.wave("empty").start == eta.wave("empty").finish == T0
    assert eta.finish == T0 + timedelta(minutes=2)


def test_the_wire_shape_has_iso_times_and_durations() -> None:
    wire = simulate([wave("w", clusters(2))], BUDGET, T0).to_wire()
    assert wire["asOf"] == "2026-01-05T12:00:00.000000Z"
    assert wire["finish"] == "2026-01-05T12:02:00.000000Z"
    assert wire["duration"] == "PT2M"
    assert wire["waves"][0]["reconcile"] == {"duration": "PT2M", "source": "track", "samples": 0}
    assert wire["waves"][0]["batches"][0]["lastWrite"] == "2026-01-05T12:00:00.000000Z"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(minutes=2), "PT2M"),
        (timedelta(hours=1, minutes=30), "PT1H30M"),
        (timedelta(days=2, hours=3), "P2DT3H"),
        (timedelta(days=1), "P1D"),
        (timedelta(seconds=0.25), "PT0.25S"),
    ],
)
def test_iso_durations(value: timedelta, text: str) -> None:
    assert iso_duration(value) == text


def test_a_budget_needs_tokens_and_a_rate() -> None:
    with pytest.raises(ValueError, match="burst >= 1"):
        WriteBudget(burst=0, per_second=1)


def _hours(n: int) -> ReconcileEta:
    return ReconcileEta(duration=timedelta(hours=n), source=ReconcileSource.WAVE)
