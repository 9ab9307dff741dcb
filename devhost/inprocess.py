"""`InProcessEngine`: devhost's durable engine inside the test process, on a virtual clock.

    from devhost.durable.clock import DEFAULT_START, VirtualClock
    from devhost.inprocess import InProcessEngine
    from devhost.loader import index_functions

    INDEX = index_functions(app)  # once per DFApp: get_functions() may only be called once

    with InProcessEngine(INDEX, tmp_path, clock=VirtualClock(DEFAULT_START)) as engine:
        engine.start("approval", "a1", {"hours": 1})
        engine.run_until_idle()  # the one-hour durable timer fires at once, in virtual time
        assert engine.status("a1")["output"] == {"approved": None, "timed_out": True}
        assert engine.clock.utcnow() == DEFAULT_START + timedelta(hours=1)

No HTTP, no subprocess and no sleeping. The harness drives the engine's own code paths
(`Engine.run_episode`, `Engine.run_activity`, `start_instance`, `raise_event`, `control`) on
a private event loop, one step at a time; the public API is synchronous, so call it from
plain (not `async def`) tests. `InProcessEngine(index, state_dir=None, *, clock=None,
overridable_states="NonRunningStates", max_steps=..., max_virtual_seconds=..., seed=0)`:
without `state_dir` a temporary folder is used and removed on close; without `clock` a
`VirtualClock` starts at `DEFAULT_START`.

- `start(name, instance_id=None, input=None) -> str`, `raise_event(id, name, data=None)`,
  `terminate(id, reason=None)`, `suspend(id, reason=None)`, `resume(id, reason=None)`: as the
  Durable client does; invalid requests raise `EngineError` with the HTTP status the API
  would answer (400 for an invalid instance id, 404 unknown, 410 finished, ...).
- `step() -> bool`: one step (see below); False when nothing is left to do.
- `run_until_idle()`: steps until no message and no activity remain; what is left waits for
  an external event, a resume, or nothing (finished).
- `run_until(predicate)`: steps until `predicate()` holds (checked before the first step and
  after each one); `InProcessError` if everything goes idle first.
- `wait_for(id, statuses=TERMINAL) -> dict`: `run_until` the instance reaches a status.
- `status(id, history=False) -> dict`: the Durable HTTP API's status JSON (`runtimeStatus`,
  `input`, `output`, `customStatus` parsed from JSON, `createdTime`, ...).
- `history(id)`: the stored history events; `instance_ids`: every instance in the store,
  sub-orchestrations included (the harness never purges); `clock`: the `VirtualClock`, for
  activities that read or advance virtual time; `engine`: the underlying `Engine`.

A step runs the oldest queued activity; when none is queued, the episode of the instance with
the oldest due message; when neither exists, it moves the clock to the next timer. So
activities take no virtual time (one may advance `clock` itself), all completions of a
fan-out reach their orchestrator in one episode, and time passes only while every instance
waits for a timer. Instance and execution ids come from a seeded generator, so a scenario
gives the same ids and histories every run.

`run_until_idle` and `run_until` raise `RunawayError` after `max_steps` steps or when the
next timer lies more than `max_virtual_seconds` after the call began (defaults 10,000 and
30 days, settable per harness and per call): a runaway orchestration fails the test instead
of hanging it. An activity that blocks forever still blocks: the harness cannot interrupt it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from devhost.config import HostConfig
from devhost.durable.api import status_payload
from devhost.durable.clock import VirtualClock
from devhost.durable.engine import Engine
from devhost.durable.history import EventType, fmt_status_time
from devhost.durable.store import Store
from devhost.harness import TERMINAL, Harness
from devhost.loader import FunctionIndex

STATE_FILE = "devhost.sqlite3"
DEFAULT_MAX_STEPS = 10_000
DEFAULT_MAX_VIRTUAL_SECONDS = 30 * 24 * 3600.0


class InProcessError(AssertionError):
    """The orchestrations did not get where the test asked them to."""


class RunawayError(InProcessError):
    """A run used up its step or virtual-time budget without getting there."""


class InProcessEngine(Harness):
    """The durable engine driven step by step on a virtual clock.

    `close()` releases the engine's thread pools, the state file and the event loop.
    """

    def __init__(
        self,
        index: FunctionIndex,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        clock: VirtualClock | None = None,
        overridable_states: str = "NonRunningStates",
        max_steps: int = DEFAULT_MAX_STEPS,
        max_virtual_seconds: float = DEFAULT_MAX_VIRTUAL_SECONDS,
        seed: int = 0,
    ) -> None:
        super().__init__()
        state = self._state_folder(state_dir, "devhost-inprocess-")
        self.clock = clock or VirtualClock()
        self.max_steps = max_steps
        self.max_virtual_seconds = max_virtual_seconds
        config = HostConfig(
            app_dir=state,
            state_dir=state,
            max_activities=1,
            max_orchestrators=1,
            overridable_states=overridable_states,
        )
        rng = random.Random(seed)
        store = Store(state / STATE_FILE, clock=self.clock)
        self._opened.callback(store.close)
        self.engine = Engine(
            config,
            index,
            store,
            clock=self.clock,
            new_id=lambda: uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        )
        self._opened.callback(self.engine.close)
        self._loop = asyncio.new_event_loop()
        self._opened.callback(self._loop.close)

    # the Durable client ----------------------------------------------------------------------
    def start(self, name: str, instance_id: str | None = None, input: Any = None) -> str:
        """Start an orchestration (`client.start_new`); returns the instance id."""
        input_text = None if input is None else json.dumps(input)
        return self.engine.start_instance(name, instance_id, input_text)

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        self.engine.raise_event(instance_id, name, json.dumps(data))

    def terminate(self, instance_id: str, reason: str | None = None) -> None:
        self.engine.control(instance_id, EventType.ExecutionTerminated, reason)

    def suspend(self, instance_id: str, reason: str | None = None) -> None:
        self.engine.control(instance_id, EventType.ExecutionSuspended, reason)

    def resume(self, instance_id: str, reason: str | None = None) -> None:
        self.engine.control(instance_id, EventType.ExecutionResumed, reason)

    def status(self, instance_id: str, *, history: bool = False) -> dict[str, Any]:
        """The status JSON the Durable HTTP API answers; EngineError(404) for an unknown id."""
        return status_payload(
            self.engine,
            self.engine.instance(instance_id),
            show_input=True,
            show_history=history,
            show_history_output=history,
        )

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        """The stored history events of the current execution (EventType as int)."""
        return self.engine.history(instance_id)

    @property
    def instance_ids(self) -> list[str]:
        """Every instance in the store, sub-orchestrations included, sorted."""
        return [row.instance_id for row in self.engine.store.query_instances()]

    # driving ---------------------------------------------------------------------------------
    def step(self) -> bool:
        """Run one activity or one episode, or move the clock to the next timer.

        Returns False, doing nothing, when no message and no activity remain.
        """
        return self._step(None)

    def run_until_idle(
        self, *, max_steps: int | None = None, max_virtual_seconds: float | None = None
    ) -> None:
        """Step until nothing is left but waiting for external events; RunawayError on budget."""
        self._drive(None, "run_until_idle()", max_steps, max_virtual_seconds)

    def run_until(
        self,
        predicate: Callable[[], bool],
        *,
        max_steps: int | None = None,
        max_virtual_seconds: float | None = None,
    ) -> None:
        """Step until `predicate()` holds; InProcessError if everything goes idle first."""
        self._drive(predicate, "run_until()", max_steps, max_virtual_seconds)

    def wait_for(
        self,
        instance_id: str,
        statuses: tuple[str, ...] = TERMINAL,
        *,
        max_steps: int | None = None,
        max_virtual_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Step until the instance reaches one of `statuses`; returns its status."""
        self._drive(
            lambda: self._status_of(instance_id) in statuses,
            f"wait_for('{instance_id}', {statuses})",
            max_steps,
            max_virtual_seconds,
        )
        return self.status(instance_id)

    def _status_of(self, instance_id: str) -> str | None:
        inst = self.engine.store.get_instance(instance_id)
        return None if inst is None else inst.status.value

    def _drive(
        self,
        predicate: Callable[[], bool] | None,
        what: str,
        max_steps: int | None,
        max_virtual_seconds: float | None,
    ) -> None:
        steps_budget = self.max_steps if max_steps is None else max_steps
        seconds = self.max_virtual_seconds if max_virtual_seconds is None else max_virtual_seconds
        deadline = self.clock.time() + seconds
        steps = 0
        while predicate is None or not predicate():
            if steps >= steps_budget:
                raise RunawayError(
                    self._report(f"{what} did not finish within {steps_budget} steps")
                )
            if not self._step(deadline):
                if predicate is None:
                    return
                raise InProcessError(
                    self._report(f"{what}: everything went idle before the condition held")
                )
            steps += 1

    def _step(self, deadline: float | None) -> bool:
        store = self.engine.store
        work = store.pending_work(set(), 1)
        if work:
            self._run(self.engine.run_activity(work[0]))
            return True
        ready = store.ready_instances(set(), 1)
        if ready:
            self._run(self.engine.run_episode(ready[0]))
            return True
        due = store.next_visible_at()
        if due is None:
            return False
        if deadline is not None and due > deadline:
            raise RunawayError(
                self._report(
                    f"the next timer is due at {_show(due)}, beyond the virtual-time budget "
                    f"(max_virtual_seconds ends at {_show(deadline)})"
                )
            )
        self.clock.advance_to(due)
        return True

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._loop.run_until_complete(coro)
            return
        coro.close()
        raise RuntimeError(
            "InProcessEngine is synchronous and runs its own event loop; call it from a plain "
            "test function, or from async code through asyncio.to_thread"
        )

    def _report(self, headline: str) -> str:
        """The headline plus the virtual time and every unfinished instance, for the test log."""
        unfinished = [
            f"  {row.instance_id} ({row.name}): {row.status}"
            for row in self.engine.store.query_instances()
            if not row.finished
        ]
        counts = self.engine.store.counts()
        lines = [
            f"{headline}.",
            f"Virtual time is {fmt_status_time(self.clock.utcnow())}; "
            f"{counts['messages']} message(s) and {counts['work']} activity item(s) queued.",
            "Unfinished instances:" if unfinished else "No unfinished instances.",
            *unfinished[:20],
        ]
        if len(unfinished) > 20:
            lines.append(f"  ... and {len(unfinished) - 20} more")
        return "\n".join(lines)


def _show(epoch: float) -> str:
    return fmt_status_time(datetime.fromtimestamp(epoch, UTC))
