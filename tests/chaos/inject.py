"""Carrying out a phase's faults on the stack, and pushing its commit through the webhook.

`Injector` runs the phase's faults in order on a thread of its own, each at its moment (or
late, when a restart before it took longer). Overlapping faults of one kind combine: ARM
fails at the highest rate of the bursts in progress, throttles while any storm lasts, and a
cluster stays offline until its last flap ends. `stop()` ends what is in progress and skips
what has not begun; `done` counts what was carried out, by kind.

`Pusher` sends a signed GitHub push the way GitHub does: again and again, with the same body
and delivery id, until it is answered 2xx (a kill lands on the first delivery by design), and
again later when the plan re-delivers it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.fleet import NORMAL_THROTTLE, STORM_THROTTLE, TRACK
from tests.chaos.plan import Fault, Kind
from tests.chaos.stack import WEBHOOK_SECRET, ChaosStack
from tests.e2e.rollout_support import github_push, signed_github

ACK_TIMEOUT = 120.0


@dataclass
class Delivery:
    """One push and every answer its deliveries got: (seconds after the push, status, body)."""

    revision: str
    delivery_id: str
    body: bytes
    answers: list[tuple[float, int, Any]] = field(default_factory=list)
    acknowledged_at: float | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def rollout_ids(self) -> set[str]:
        """The rollout ids the 202 answers named."""
        return {
            str(item["rolloutId"])
            for _, code, body in self.answers
            if code == 202 and isinstance(body, dict)
            for item in body.get("tracks", [])
            if item.get("track") == TRACK
        }


class Pusher:
    """Pushes one commit through `POST /api/hooks/github` until it is acknowledged."""

    def __init__(self, stack: ChaosStack, revision: str, previous: str, seed: str) -> None:
        self.stack = stack
        body = json.dumps(github_push(revision, previous=previous)).encode()
        self.delivery = Delivery(revision, str(uuid.uuid5(uuid.NAMESPACE_URL, seed)), body)
        self.start = time.monotonic()
        self.thread = threading.Thread(target=self._until_acknowledged, daemon=True)
        self.thread.start()

    def _send(self) -> int:
        delivery = self.delivery
        headers = signed_github(delivery.body, delivery.delivery_id, secret=WEBHOOK_SECRET)
        code, answer = self.stack.post_webhook(delivery.body, headers)
        delivery.answers.append((time.monotonic() - self.start, code, answer))
        return code

    def _until_acknowledged(self) -> None:
        deadline = self.start + ACK_TIMEOUT
        while time.monotonic() < deadline:
            if 200 <= self._send() < 300:
                self.delivery.acknowledged_at = time.monotonic() - self.start
                return
            time.sleep(0.3)

    def wait(self) -> Delivery:
        self.thread.join(ACK_TIMEOUT + 5)
        return self.delivery

    def redeliver(self) -> None:
        """GitHub's "Redeliver": the same body and delivery id once more."""
        self._send()


class Injector:
    """Carries out `faults` on `stack`, timed from `start` (monotonic seconds)."""

    def __init__(self, stack: ChaosStack, faults: list[Fault], start: float, pusher: Pusher):
        self.stack = stack
        self.start = start
        self.pusher = pusher
        self.actions = self._actions(faults)
        self.done: Counter[Kind] = Counter()
        self.log: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._bursts: dict[int, float] = {}
        self._storms: set[int] = set()
        self._offline: Counter[str] = Counter()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _actions(faults: list[Fault]) -> list[tuple[float, int, str, Fault]]:
        """Each fault as its beginning and, for those that last, its end; in time order."""
        actions = []
        for number, fault in enumerate(faults):
            actions.append((fault.at, number, "begin", fault))
            if fault.kind in (Kind.ARM_5XX, Kind.ARM_429, Kind.OFFLINE):
                actions.append((fault.at + fault.seconds, number, "end", fault))
        return sorted(actions, key=lambda a: (a[0], a[1]))

    def _run(self) -> None:
        for at, number, what, fault in self.actions:
            if self._stop.wait(max(0.0, self.start + at - time.monotonic())):
                return
            try:
                self._carry_out(number, what, fault)
            except Exception as error:  # a harness failure: reported, never hidden
                self.errors.append(f"{fault.describe()} ({what}): {type(error).__name__}: {error}")

    def _carry_out(self, number: int, what: str, fault: Fault) -> None:
        late = time.monotonic() - self.start
        if what == "begin":
            self.done[fault.kind] += 1
            self.log.append(f"+{late:5.1f}s {fault.describe()}")
        stack = self.stack
        if fault.kind is Kind.KILL:
            stack.kill_devhost(fault.seconds)
        elif fault.kind is Kind.EMULATOR:
            stack.restart_emulator(fault.seconds)
        elif fault.kind is Kind.REDELIVERY:
            self.pusher.redeliver()
        elif fault.kind is Kind.ARM_5XX:
            if what == "begin":
                self._bursts[number] = fault.rate
            else:
                self._bursts.pop(number, None)
            self._set_error_rate()
        elif fault.kind is Kind.ARM_429:
            if what == "begin":
                self._storms.add(number)
            else:
                self._storms.discard(number)
            self._set_throttle()
        elif fault.kind is Kind.OFFLINE:
            self._offline[fault.cluster] += 1 if what == "begin" else -1
            self._set_connectivity(fault.cluster)

    def _set_error_rate(self) -> None:
        rate = max(self._bursts.values(), default=0.0)
        self.stack.control(lambda c: c.patch_faults(armErrorRate=rate))

    def _set_throttle(self) -> None:
        throttle = STORM_THROTTLE if self._storms else NORMAL_THROTTLE
        self.stack.control(lambda c: c.patch_faults(throttle=throttle))

    def _set_connectivity(self, cluster: str) -> None:
        status = "Offline" if self._offline[cluster] > 0 else "Connected"
        self.stack.control(lambda c: c.set_connectivity(cluster, status))

    def stop(self) -> None:
        """Skip what has not begun, end what is in progress: ARM healthy, every cluster back."""
        self._stop.set()
        self.thread.join()
        if self._bursts:
            self._bursts.clear()
            self._set_error_rate()
        if self._storms:
            self._storms.clear()
            self._set_throttle()
        for cluster, count in list(self._offline.items()):
            if count > 0:
                self._offline[cluster] = 0
                self._set_connectivity(cluster)

    @property
    def planned(self) -> int:
        return sum(1 for _, _, what, _ in self.actions if what == "begin")
