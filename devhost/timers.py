"""Timer triggers: 6-field NCRONTAB (seconds first) or TimeSpan schedules, run_on_startup, past_due.

The schedule status (last and next occurrence) is kept in the SQLite state, so a devhost that
was down when an occurrence was due runs the function once at start with `past_due=True`,
as the Functions host does with `useMonitor`. Invocations of one timer never overlap.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from azure.functions import meta
from azure.functions.timer import TimerRequestConverter
from croniter import croniter

from devhost.config import ConfigError, resolve_setting_refs
from devhost.context import InvocationContext, wants_context
from devhost.durable.history import fmt_time, parse_time, utcnow
from devhost.durable.store import Store
from devhost.invoke import Invoker, log_invocation
from devhost.loader import FunctionSpec

log = logging.getLogger("devhost.timers")

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: either an NCRONTAB expression or a fixed TimeSpan interval."""

    text: str
    interval: timedelta | None = None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        text = resolve_setting_refs(text).strip()
        m = _TIMESPAN.match(text)
        if m:
            days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
            interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            if interval <= timedelta(0):
                raise ConfigError(f"timer schedule '{text}' must be a positive TimeSpan")
            return cls(text, interval)
        fields = text.split()
        if len(fields) != 6:
            raise ConfigError(
                f"timer schedule '{text}' has {len(fields)} fields; NCRONTAB needs 6 "
                "('{second} {minute} {hour} {day} {month} {day-of-week}', e.g. '0 */5 * * * *') "
                "or use a TimeSpan like '00:05:00'"
            )
        if not croniter.is_valid(text, second_at_beginning=True):
            raise ConfigError(f"timer schedule '{text}' is not a valid NCRONTAB expression")
        return cls(text)

    def next_after(self, t: datetime) -> datetime:
        """The first occurrence strictly after `t`."""
        if self.interval is not None:
            return t + self.interval
        following: datetime = croniter(self.text, t, second_at_beginning=True).get_next(datetime)
        return following


class TimerRunner:
    """Runs every timer function of the app until cancelled."""

    def __init__(
        self,
        specs: list[FunctionSpec],
        store: Store,
        invoker: Invoker,
        app_dir: str,
        client_json: Callable[[], str],
    ) -> None:
        self.store = store
        self.invoker = invoker
        self.app_dir = app_dir
        self.client_json = client_json
        self.timers = [(spec, Schedule.parse(str(spec.trigger["schedule"]))) for spec in specs]

    def find(self, name: str) -> tuple[FunctionSpec, Schedule] | None:
        """The timer function called `name` (case-insensitive), with its schedule."""
        for spec, schedule in self.timers:
            if spec.name.lower() == name.lower():
                return spec, schedule
        return None

    async def invoke_now(self, name: str) -> bool:
        """Run one timer function once, now, as `POST /admin/functions/{name}` does."""
        found = self.find(name)
        if found is None:
            return False
        spec, schedule = found
        status = self.store.timer_status(spec.name)
        await self._invoke(
            spec, False, status[0] if status else None, schedule.next_after(utcnow())
        )
        return True

    async def run(self) -> None:
        await asyncio.gather(*(self._run_one(spec, schedule) for spec, schedule in self.timers))

    async def _invoke(
        self, spec: FunctionSpec, past_due: bool, last: str | None, next_: datetime
    ) -> None:
        payload = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {
                "Last": last,
                "Next": fmt_time(next_),
                "LastUpdated": fmt_time(utcnow()),
            },
            "IsPastDue": past_due,
        }
        request = TimerRequestConverter.decode(
            meta.Datum(json.dumps(payload), "json"), trigger_metadata=None
        )
        kwargs = {spec.trigger["name"]: request}
        client = spec.client_binding
        if client is not None:
            kwargs[client["name"]] = self.client_json()
        if wants_context(spec.call):
            kwargs["context"] = InvocationContext(spec.name, self.app_dir)
        started = time.perf_counter()
        try:
            await self.invoker.call(spec.call, kwargs)
        except Exception as exc:
            log.exception("timer function '%s' raised", spec.name)
            log_invocation(spec.name, "timerTrigger", started, "Failed", detail=type(exc).__name__)
            return
        log_invocation(
            spec.name, "timerTrigger", started, "Succeeded", detail=f"past_due={past_due}"
        )

    async def _run_one(self, spec: FunctionSpec, schedule: Schedule) -> None:
        name = spec.name
        use_monitor = spec.trigger.get("useMonitor", True) is not False
        now = utcnow()
        status = self.store.timer_status(name)
        last = status[0] if status else None
        if status and use_monitor and parse_time(status[1]) <= now:
            await self._invoke(spec, True, last, schedule.next_after(now))
            last = fmt_time(now)
        elif spec.trigger.get("runOnStartup"):
            await self._invoke(spec, False, last, schedule.next_after(now))
            last = fmt_time(now)
        previous = utcnow()
        while True:
            due = schedule.next_after(max(utcnow(), previous))
            previous = due
            with self.store.transaction():
                self.store.set_timer_status(name, last, fmt_time(due))
            await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()))
            fired = utcnow()
            await self._invoke(spec, False, last, schedule.next_after(fired))
            last = fmt_time(fired)
