"""What a chaos run does, drawn in advance from its seed: the runs, the commits they push and
every fault with its moment and length.

A fault's moment counts from its phase's push (a phase is one rollout: a good run has one,
a bad run a good rollout then the bad one). Faults fall inside a window shorter than the
fault-free length of the phase (`WINDOW`), so they land while the rollout runs: faults only
make it slower. The same seed gives the same plan; `plan_text()` prints it.

The fault budget (how long ARM or the app can be away at once) is far inside the retry
horizon the run gives the app (`RETRY`): no step can exhaust its retries, so a good commit
must succeed and a bad one must roll back, whatever the plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from tests.chaos.fleet import Fleet, commit

RETRY = {
    "ARCWAVE_RETRY_FIRST_SECONDS": "0.5",
    "ARCWAVE_RETRY_MAX_INTERVAL_SECONDS": "2",
    "ARCWAVE_RETRY_HORIZON_SECONDS": "900",
}
"""Each step is retried for 15 minutes: longer than a phase may last (`Size.phase_timeout`), so
even a step failing from a phase's first second to its last could not run out of retries. The
plan keeps ARM unusable for under 30 s at a time (`LONGEST_OUTAGE`)."""


class Kind(StrEnum):
    KILL = "devhost SIGKILL"
    ARM_5XX = "ARM 5xx burst"
    ARM_429 = "ARM 429 storm"
    OFFLINE = "cluster offline"
    EMULATOR = "emulator restart"
    REDELIVERY = "push re-delivered"


@dataclass(frozen=True)
class Fault:
    at: float
    """Seconds after the phase's push."""
    kind: Kind
    seconds: float = 0.0
    """How long it lasts: devhost or the emulator away, a burst, a storm, a cluster offline."""
    rate: float = 0.0
    """ARM 5xx: the share of ARM calls answered 500 or 503."""
    cluster: str = ""
    """Cluster offline: which."""

    def describe(self) -> str:
        what = {
            Kind.KILL: f"down {self.seconds:.1f}s",
            Kind.ARM_5XX: f"{self.rate:.0%} for {self.seconds:.1f}s",
            Kind.ARM_429: f"for {self.seconds:.1f}s",
            Kind.OFFLINE: f"{self.cluster} for {self.seconds:.1f}s",
            Kind.EMULATOR: f"down {self.seconds:.1f}s",
            Kind.REDELIVERY: "same body and delivery id",
        }[self.kind]
        return f"+{self.at:5.1f}s {self.kind.value}: {what}"


@dataclass(frozen=True)
class Dose:
    """How many faults of each kind one phase gets."""

    kills: int
    bursts: int
    storms: int
    flaps: int
    emulator_restarts: int
    redeliveries: int = 1


@dataclass(frozen=True)
class Size:
    """An invocation's size: how many runs, of how many clusters, with which doses."""

    name: str
    runs: int
    clusters: int
    good_dose: Dose
    """A run whose commit must succeed."""
    bad_doses: tuple[Dose, Dose]
    """A bad run: its good rollout first, then the bad commit."""
    phase_timeout: float = 600.0


SIZES = {
    "default": Size(
        "default",
        runs=4,
        clusters=200,
        good_dose=Dose(kills=7, bursts=3, storms=2, flaps=6, emulator_restarts=1),
        bad_doses=(
            Dose(kills=4, bursts=2, storms=1, flaps=4, emulator_restarts=1),
            Dose(kills=4, bursts=2, storms=1, flaps=4, emulator_restarts=1),
        ),
    ),
    "short": Size(
        "short",
        runs=1,
        clusters=60,
        good_dose=Dose(kills=2, bursts=1, storms=1, flaps=2, emulator_restarts=1),
        bad_doses=(
            Dose(kills=2, bursts=1, storms=1, flaps=2, emulator_restarts=1),
            Dose(kills=2, bursts=1, storms=1, flaps=2, emulator_restarts=0),
        ),
        phase_timeout=240.0,
    ),
}

KILL_DOWN = (0.0, 2.0)
EMULATOR_DOWN = (0.2, 3.0)
BURST_SECONDS = (2.0, 8.0)
BURST_RATE = (0.3, 1.0)
STORM_SECONDS = (3.0, 10.0)
FLAP_SECONDS = (1.0, 12.0)
LONGEST_OUTAGE = BURST_SECONDS[1] + STORM_SECONDS[1] + EMULATOR_DOWN[1] + 5.0
"""Bursts, storms and restarts may overlap: ARM is unusable for at most this long at once
(the 5 s cover an emulator start), which is < 30 s against a 900 s retry horizon."""


WINDOW = 0.8
"""Faults fall within this share of a phase's fault-free length: faults only slow a rollout
down, so each lands while the rollout still runs."""


def fault_free_seconds(clusters: int, *, bad: bool) -> float:
    """How long a phase takes with no fault on the 2-core machine, roughly (measured: 28 s
    for a good rollout of 200 clusters, 20 s for a bad one that rolls back from `mid`)."""
    return (6.0 + 0.07 * clusters) if bad else (8.0 + 0.1 * clusters)


@dataclass(frozen=True)
class Phase:
    revision: str
    bad: bool
    faults: list[Fault]

    @property
    def expected(self) -> str:
        return "RolledBack" if self.bad else "Succeeded"


@dataclass(frozen=True)
class Run:
    index: int
    seed: str
    """The run's own seed (`<invocation seed>:<index>`): `--seed S --only INDEX` replays it."""
    bad: bool
    phases: list[Phase] = field(default_factory=list)


def plan_run(seed: int, index: int, size: Size, fleet: Fleet) -> Run:
    """Run `index` of an invocation seeded `seed`: even runs push a bad commit (after a good
    one), odd runs a good commit."""
    run_seed = f"{seed}:{index}"
    rng = random.Random(run_seed)
    bad = index % 2 == 0
    doses = list(size.bad_doses) if bad else [size.good_dose]
    phases = []
    for number, dose in enumerate(doses):
        bad_phase = bad and number == 1
        revision = commit(rng, bad=bad_phase)
        window = WINDOW * fault_free_seconds(size.clusters, bad=bad_phase)
        phases.append(Phase(revision, bad_phase, faults(rng, dose, window, fleet)))
    return Run(index, run_seed, bad, phases)


def faults(rng: random.Random, dose: Dose, window: float, fleet: Fleet) -> list[Fault]:
    """One phase's faults. The first kill falls within 40 ms of the push: before, during or
    just after the webhook's answer (it takes 15-25 ms), so the push is often re-delivered
    to a devhost that died while handing it over; the rest fall anywhere in the window."""
    drawn: list[Fault] = []
    for number in range(dose.kills):
        at = rng.uniform(0.0, 0.04) if number == 0 else rng.uniform(0.5, window)
        drawn.append(Fault(at, Kind.KILL, seconds=rng.uniform(*KILL_DOWN)))
    for _ in range(dose.bursts):
        drawn.append(
            Fault(
                rng.uniform(0.5, window),
                Kind.ARM_5XX,
                seconds=rng.uniform(*BURST_SECONDS),
                rate=round(rng.uniform(*BURST_RATE), 2),
            )
        )
    for _ in range(dose.storms):
        drawn.append(
            Fault(rng.uniform(0.5, window), Kind.ARM_429, seconds=rng.uniform(*STORM_SECONDS))
        )
    for _ in range(dose.flaps):
        drawn.append(
            Fault(
                rng.uniform(0.5, window),
                Kind.OFFLINE,
                seconds=rng.uniform(*FLAP_SECONDS),
                cluster=rng.choice(fleet.names),
            )
        )
    for _ in range(dose.emulator_restarts):
        drawn.append(
            Fault(rng.uniform(1.0, window), Kind.EMULATOR, seconds=rng.uniform(*EMULATOR_DOWN))
        )
    for _ in range(dose.redeliveries):
        drawn.append(Fault(rng.uniform(0.5, window), Kind.REDELIVERY))
    return sorted(drawn, key=lambda f: f.at)


def plan_text(run: Run) -> str:
    lines = [f"run {run.index} (seed {run.seed}, {'bad' if run.bad else 'good'})"]
    for number, phase in enumerate(run.phases, start=1):
        lines.append(f"  phase {number}: push {phase.revision[:12]}, expect {phase.expected}")
        lines.extend(f"    {fault.describe()}" for fault in phase.faults)
    return "\n".join(lines)
