"""Quiet logs: the Azure SDK at WARNING unless `ARCWAVE_SDK_LOG_LEVEL` turns it up, one
key=value line per recorded decision, the per-poll steps at DEBUG, devhost's routine
invocations at DEBUG."""

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities import record
from devhost.invoke import log_invocation
from shared import runtime
from shared.adapters.publisher import DisabledPublisher
from shared.events import EventType
from shared.logs import SDK_LOGGERS, fields, set_sdk_log_level
from shared.reasons import Reason
from shared.runtime import Runtime
from shared.settings import LogLevel, Settings, StoreSettings
from shared.states import RolloutState
from shared.store import Records, TrackRecord, open_store
from shared.times import utc_now
from shared.trackspec import validate_track_spec

HTTP_POLICY = "azure.core.pipeline.policies.http_logging_policy"
TRACK = {
    "name": "baseline",
    "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
    "configuration": {"name": "baseline", "kustomizations": {"infra": {"path": "./infra"}}},
    "fleet": {"subscriptions": ["00000000-0000-0000-0000-000000000001"]},
    "waves": [{"name": "canary"}],
}


@pytest.fixture(autouse=True)
def sdk_levels() -> Iterator[None]:
    """Whatever a test sets on the SDK's loggers is undone after it."""
    before = {name: logging.getLogger(name).level for name in SDK_LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_fields_are_key_value_pairs_on_one_line_quoted_when_they_must_be() -> None:
    assert fields(rollout="r1", wave=None, n=3, settled=True) == "rollout=r1 n=3 settled=True"
    assert (
        fields(reason="WaveStarted", message="writing 2b7e0c1 to wave 'canary'")
        == "reason=WaveStarted message=\"writing 2b7e0c1 to wave 'canary'\""
    )
    assert fields(message='a "b"\nc=d', empty="") == 'message="a \\"b\\"\\nc=d" empty=""'


def test_the_sdk_logs_from_warning_on_when_the_app_starts_without_any_setting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in [n for n in os.environ if n.startswith("ARCWAVE_")]:
        monkeypatch.delenv(name)
    logging.getLogger("azure").setLevel(logging.DEBUG)
    runtime.check_settings_at_start()
    assert {logging.getLogger(n).level for n in SDK_LOGGERS} == {logging.WARNING}
    caplog.set_level(logging.DEBUG)
    logging.getLogger(HTTP_POLICY).info("Request URL: 'https://management.azure.com/...'")
    logging.getLogger("azure.identity").info("token acquired")
    logging.getLogger(HTTP_POLICY).warning("a problem")
    assert [r.getMessage() for r in caplog.records] == ["a problem"]


@pytest.mark.parametrize(("given", "level"), [("info", logging.INFO), ("DEBUG", logging.DEBUG)])
def test_arcwave_sdk_log_level_turns_the_sdk_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, given: str, level: int
) -> None:
    monkeypatch.setenv("ARCWAVE_STORE", f"sqlite:///{tmp_path}/a.db")
    monkeypatch.setenv("ARCWAVE_SDK_LOG_LEVEL", given)
    runtime.app_settings.cache_clear()
    try:
        runtime.check_settings_at_start()
    finally:
        runtime.app_settings.cache_clear()
    assert logging.getLogger(HTTP_POLICY).getEffectiveLevel() == level
    assert {logging.getLogger(n).level for n in SDK_LOGGERS} == {level}


def test_the_sdk_level_can_be_set_to_every_level_the_setting_names() -> None:
    for level in LogLevel:
        set_sdk_log_level(level)
        assert logging.getLogger("azure.cosmos").level == logging.getLevelName(level.value)


def settled_runtime(tmp_path: Path) -> Runtime:
    settings = Settings(store=StoreSettings(kind="sqlite", sqlite_path=tmp_path / "arcwave.db"))
    rt = Runtime(
        settings=settings,
        records=Records(open_store(settings)),
        fleet=None,  # type: ignore[arg-type]  # recording touches no cluster
        publisher=DisabledPublisher(),
    )
    rt.records.tracks.save(TrackRecord.for_spec(validate_track_spec(TRACK), utc_now()))
    return rt


def decisions(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name.startswith("arcwave") and r.levelno >= logging.INFO
    ]


def test_each_recorded_step_logs_one_decision_line_and_a_retried_one_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rt = settled_runtime(tmp_path)
    started: dict[str, Any] = {
        "rolloutId": "r1",
        "track": "baseline",
        "key": "started",
        "actor": "pytest",
        "reason": Reason.ROLLOUT_STARTED.value,
        "message": "rolling out 2b7e0c1",
        "state": RolloutState.RUNNING.value,
        "event": EventType.ROLLOUT_STARTED.value,
        "revision": "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e",
        "trigger": {"kind": "test", "actor": "pytest"},
    }
    wave: dict[str, Any] = {
        "rolloutId": "r1",
        "track": "baseline",
        "key": "wave/canary/started",
        "reason": Reason.WAVE_STARTED.value,
        "message": "writing 2b7e0c1 to wave 'canary'",
        "wave": "canary",
        "waveState": "Running",
    }
    failed: dict[str, Any] = {
        "rolloutId": "r1",
        "track": "baseline",
        "key": "step-failed",
        "reason": Reason.STEP_FAILED.value,
        "message": "advance_wave kept failing: ARM unavailable",
        "state": RolloutState.FAILED.value,
    }
    caplog.set_level(logging.DEBUG, logger="arcwave")
    for step in (started, started, wave, failed):  # the second: a retried attempt
        record.record(rt, step)  # type: ignore[arg-type]
    assert decisions(caplog) == [
        (
            logging.INFO,
            "decision rollout=r1 track=baseline step=started reason=RolloutStarted "
            'state=Running event=arcwave.rollout.started actor=pytest message="rolling out '
            '2b7e0c1"',
        ),
        (
            logging.INFO,
            "decision rollout=r1 track=baseline step=wave/canary/started reason=WaveStarted "
            "wave=canary wave_state=Running actor=arcwave "
            "message=\"writing 2b7e0c1 to wave 'canary'\"",
        ),
        (
            logging.WARNING,
            "decision rollout=r1 track=baseline step=step-failed reason=StepFailed state=Failed "
            'actor=arcwave message="advance_wave kept failing: ARM unavailable"',
        ),
    ]


@pytest.mark.parametrize(
    ("outcome", "level"),
    [
        ("Succeeded", logging.DEBUG),
        ("Running", logging.DEBUG),
        ("Completed", logging.DEBUG),
        ("ContinuedAsNew", logging.DEBUG),
        ("Terminated", logging.INFO),
        ("Failed", logging.WARNING),
    ],
)
def test_devhost_logs_routine_invocations_at_debug_and_failures_at_warning(
    caplog: pytest.LogCaptureFixture, outcome: str, level: int
) -> None:
    caplog.set_level(logging.DEBUG, logger="devhost.invocations")
    log_invocation("advance_wave", "activityTrigger", time.perf_counter(), outcome, detail="x")
    [line] = caplog.records
    assert line.levelno == level
    assert "function=advance_wave trigger=activityTrigger" in line.getMessage()
    assert f"outcome={outcome} detail=x" in line.getMessage()
