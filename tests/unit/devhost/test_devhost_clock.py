"""The durable clock: virtual time moves only forward, and the store and engine go by it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from devhost.config import HostConfig
from devhost.durable.clock import DEFAULT_START, Clock, SystemClock, VirtualClock
from devhost.durable.engine import Engine
from devhost.durable.history import EventType, event
from devhost.durable.store import Store
from devhost.loader import FunctionIndex


def test_virtual_clock_advances_and_never_goes_back() -> None:
    clock = VirtualClock()
    assert clock.utcnow() == DEFAULT_START
    assert clock.time() == DEFAULT_START.timestamp()
    assert clock.advance(90) == DEFAULT_START + timedelta(seconds=90)
    clock.advance_to(DEFAULT_START)
    assert clock.utcnow() == DEFAULT_START + timedelta(seconds=90)
    later = DEFAULT_START + timedelta(hours=2)
    assert clock.advance_to(later.timestamp()) == later
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_virtual_clock_is_utc_and_refuses_naive_times() -> None:
    start = datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    clock = VirtualClock(start)
    assert clock.utcnow() == start and clock.utcnow().tzinfo == UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.advance_to(datetime(2026, 1, 1))


def test_advance_to_an_epoch_reaches_it() -> None:
    """After advance_to(t), time() >= t, so a message visible at t is due."""
    clock = VirtualClock()
    for offset in (0.1, 1 / 3, 12345.678901234, 7e-7):
        target = DEFAULT_START.timestamp() + offset
        clock.advance_to(target)
        assert clock.time() >= target


def test_system_clocks_are_one_clock() -> None:
    assert SystemClock() == SystemClock()
    now = SystemClock().utcnow()
    assert now.tzinfo == UTC
    assert abs(SystemClock().time() - now.timestamp()) < 60


def test_store_visibility_follows_its_clock(tmp_path: Path) -> None:
    clock = VirtualClock()
    store = Store(tmp_path / "s.sqlite3", clock=clock)
    try:
        due = clock.time() + 3600
        with store.transaction():
            store.add_message("i", "e", event(EventType.TimerFired, clock.utcnow()), due)
        assert store.ready_instances(set(), 10) == []
        assert store.messages_for("i") == []
        assert store.next_visible_at() == due
        clock.advance(3600)
        assert store.ready_instances(set(), 10) == ["i"]
        assert len(store.messages_for("i")) == 1
        assert store.next_visible_at() is None
    finally:
        store.close()


def engine_clock(config: HostConfig, store: Store, clock: Clock | None = None) -> Clock:
    engine = Engine(config, FunctionIndex(), store, clock=clock)
    engine.close()
    return engine.clock


def test_engine_and_store_share_one_clock(tmp_path: Path) -> None:
    config = HostConfig(app_dir=tmp_path, state_dir=tmp_path)
    clock = VirtualClock()
    store = Store(tmp_path / "s.sqlite3", clock=clock)
    plain = Store(tmp_path / "p.sqlite3")
    try:
        assert engine_clock(config, store) is clock
        assert engine_clock(config, store, clock) is clock
        with pytest.raises(ValueError, match="share one clock"):
            engine_clock(config, store, VirtualClock())
        assert engine_clock(config, plain, SystemClock()) == SystemClock()
    finally:
        store.close()
        plain.close()
