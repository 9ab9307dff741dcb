"""The ETA of a plan or a running rollout, as the API, the CLI and the dashboard show it, and
what the simulation (`shared.eta`) takes to compute it.

Times are UTC in the store's fixed-width format; durations are ISO 8601 (`PT1H30M`). Every
time is the
*earliest*: each cluster takes its expected reconcile time and every gate passes at once
(`shared.eta` says how it is computed)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

from shared.times import UtcTime
from shared.trackspec.windows import MaintenanceWindow
from shared.wire import WireModel


def iso_duration(value: timedelta) -> str:
    """ISO 8601, days at most: `PT0S`, `PT2M`, `PT1H30M`, `P2DT3H`, `PT0.25S`."""
    micros = max(0, value // timedelta(microseconds=1))
    days, micros = divmod(micros, 86_400_000_000)
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds = f"{micros / 1e6:.6f}".rstrip("0").rstrip(".")
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n) + (
        f"{seconds}S" if micros else ""
    )
    text = f"P{days}D" if days else "P"
    return text + (f"T{time}" if time else ("" if days else "T0S"))


IsoDuration = Annotated[
    timedelta,
    PlainSerializer(iso_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "examples": ["PT2M", "PT1H30M"]}),
]


class ReconcileSource(StrEnum):
    """Where a wave's expected reconcile time comes from."""

    WAVE = "wave"
    """The wave's `expectedReconcile`."""
    TRACK = "track"
    """The track's `expectedReconcile`."""
    HISTORY = "history"
    """The median write-to-Healthy time of the track's recently settled clusters."""
    DEFAULT = "default"
    """Nothing configured and too little history: `DEFAULT_RECONCILE`."""


class ReconcileEta(WireModel):
    """A wave's expected time from a cluster's write to its Healthy verdict, and its source."""

    duration: IsoDuration
    source: ReconcileSource
    samples: int = Field(default=0, ge=0)
    """How many settled clusters a learned time is the median of (0 unless `history`)."""


class BatchEta(WireModel):
    """Clusters written together into a wave's in-flight window."""

    number: int = Field(ge=1)
    clusters: list[str]
    """Cluster ids, in the order they are written."""
    start: UtcTime
    """The batch's first write."""
    last_write: UtcTime
    """Its last write: later than `start` when the write budget paces it."""
    finish: UtcTime
    """Its last verdict."""
    written: bool = False
    """Already written (a running rollout's clusters in flight)."""


class WaveEta(WireModel):
    """When one wave can start and finish at the earliest."""

    name: str
    phase: str
    """`pending`, `awaitingApproval`, `running`, `soaking` or `done` when computed."""
    clusters: int = Field(ge=0)
    """Clusters still to write or to settle (settled ones take no time)."""
    skipped: int = Field(default=0, ge=0)
    """Offline clusters left for catch-up (`offline: skip`): no time."""
    reconcile: ReconcileEta
    soak: IsoDuration = timedelta(0)
    waits: list[str] = Field(default_factory=list)
    """Waits of unknown length (`approval: unknown wait`) and maintenance windows it waits for."""
    ready: UtcTime | None = None
    """When the wave's turn comes: the wave before it finished, its approval assumed at once."""
    start: UtcTime | None = None
    """Its first write (earlier than `ready` for a wave already running)."""
    last_write: UtcTime | None = None
    healthy: UtcTime | None = None
    """Its last verdict."""
    finish: UtcTime | None = None
    """After its soak; None when it can never finish (`blocked` says why), or once done."""
    duration: IsoDuration | None = None
    """From `start` to `finish`."""
    blocked: str | None = None
    batches: list[BatchEta] = Field(default_factory=list)


class Eta(WireModel):
    """The earliest schedule of a rollout from `asOf`, wave by wave, and when it ends."""

    as_of: UtcTime
    finish: UtcTime | None
    """When the last wave finishes; None when some wave never can."""
    duration: IsoDuration | None
    """From `asOf` to `finish`."""
    unknown_waits: list[str] = Field(default_factory=list)
    """Waits of unknown length ahead (approvals, a pause): the times assume each ends at once."""
    write_burst: int = Field(ge=1)
    writes_per_second: float = Field(gt=0)
    """The ARM write bucket each subscription's writes were paced by."""
    waves: list[WaveEta]
    note: str = (
        "earliest times: each cluster takes its wave's expected reconcile time and every gate "
        "passes at once; approvals and pauses are unknown waits, assumed to end at once"
    )

    def wave(self, name: str) -> WaveEta:
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(name)


# -- what the simulation takes ------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One predicted write: when the cluster is written and when its verdict comes."""

    cluster: str
    wave: str
    at: datetime
    settles: datetime


@dataclass(frozen=True)
class WriteBudget:
    """A subscription's ARM write bucket: `burst` tokens, refilled at `per_second`."""

    burst: int
    per_second: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_second <= 0:
            raise ValueError("a write budget needs burst >= 1 and per_second > 0")


@dataclass(frozen=True)
class ClusterInput:
    """One cluster of a wave, in write order."""

    id: str
    subscription: str
    site: str | None = None
    windows: tuple[MaintenanceWindow, ...] = ()
    """Every maintenance window that binds it (all must be open to write it)."""
    reconcile: timedelta | None = None
    """Its own write → verdict time when it differs from the wave's (an offline cluster)."""
    skip: bool = False
    """Left alone when its turn comes (offline: skip): no slot, no token, no time."""
    written_at: datetime | None = None
    """A running rollout's cluster already written and awaiting its verdict."""


class Phase(StrEnum):
    """Where a wave stands when the ETA is computed."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaitingApproval"
    RUNNING = "running"
    SOAKING = "soaking"
    DONE = "done"


@dataclass(frozen=True)
class WaveInput:
    """One wave: its clusters still to settle (settled ones are left out), window and gates."""

    name: str
    clusters: Sequence[ClusterInput]
    max_in_flight: int
    reconcile: ReconcileEta
    max_per_site: int | None = None
    soak: timedelta = timedelta(0)
    approval: bool = False
    phase: Phase = Phase.PENDING
    soak_ends: datetime | None = None
    """A soaking wave: when its soak ends."""
    started: datetime | None = None
    """A running wave: when it wrote its first cluster."""
