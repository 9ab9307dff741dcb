"""A world for the orchestrators: the real ones, the real activity code, an Arc fleet in memory.

The app under test registers arcwave's own track, rollout and wave orchestrators and, under
the activity names of `shared.contracts.activities`, the real activity functions called with a
`Runtime` whose fleet is `FakeFleet` (clusters that reconcile a pinned commit in virtual
time) and whose store is SQLite (which `World.store_down` can make unreachable). devhost's
in-process engine runs it all on a virtual clock: no HTTP, no sleeping.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df

from activities import advance, gates, observe, plan, record, recovery, restore
from devhost.durable.clock import VirtualClock
from devhost.inprocess import InProcessEngine, InProcessError
from devhost.loader import index_functions
from orchestrators import rollout, track, wave
from shared import telemetry
from shared.adapters.fleet import WriteOutcome, window_closed
from shared.adapters.publisher import DisabledPublisher
from shared.cluster import Cluster, Connectivity
from shared.contracts import activities as contracts
from shared.errors import NotFound, TransientError
from shared.health import FluxStatus, Health, assess
from shared.ratelimit import TokenBucket, take_turn
from shared.runtime import Runtime, failing_fast
from shared.secrets import Secret
from shared.settings import Settings, StoreSettings
from shared.sourceauth import SecretRef
from shared.store import Records, StoreUnavailable, TrackRecord
from shared.store.sqlite import SqliteStore
from shared.trackspec import FleetSelection, validate_track_spec
from tests.unit.orchestrators.fake_monitor import FakeMonitor

SUB = "00000000-0000-0000-0000-000000000001"
GOOD = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
GOOD2 = "3c8f1d2e5a4b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
GOOD3 = "4d9e2f3a6b5c7d8e9f0a1b2c3d4e5f6a7b8c9d0e"
BAD = "bad0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e0"

RETRY = {"firstSeconds": 5.0, "maxIntervalSeconds": 60.0, "horizonSeconds": 600.0}


def cluster_id(name: str) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg-fleet"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )


@dataclass
class FakeConfiguration:
    body: dict[str, Any]
    """What was written, write-only `configurationProtectedSettings` aside."""
    written: float
    """Virtual epoch seconds of the write."""
    previous_commit: str | None = None
    protected: dict[str, str] = field(default_factory=dict)
    modified_by: str = "arcwave"

    @property
    def commit(self) -> str | None:
        ref = (self.body.get("properties", {}).get("gitRepository") or {}).get("repositoryRef")
        return (ref or {}).get("commit")


@dataclass
class FakeCluster:
    name: str
    tags: dict[str, str]
    connectivity: Connectivity = Connectivity.CONNECTED
    configurations: dict[str, FakeConfiguration] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return cluster_id(self.name)


@dataclass(frozen=True)
class Write:
    time: float
    cluster: str
    method: str
    commit: str | None


class FakeFleet:
    """The fleet gateway's interface over clusters in memory.

    A written commit reconciles `reconcile_seconds` (virtual) after its write: then Flux
    reports it Compliant, or Non-Compliant when a `failing` rule (commit prefix, cluster name
    glob) matches. During an `outage` (virtual epoch range) every call fails as ARM answering
    503 would after the gateway's own retries: reads raise `TransientError`, writes come back
    not ok with error `Transient`. Each write first takes a token from `bucket` (the gateway's
    `take_turn`, on the virtual clock: unlimited unless `pace` sets a rate) and is not made
    once its deadline has passed (`WindowClosed`), as the gateway does."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.clusters: dict[str, FakeCluster] = {}
        self.reconcile_seconds = 2.0
        self.slow: dict[str, float] = {}
        self.failing: list[tuple[str, str]] = [("bad0", "canary-*")]
        self.outage: tuple[float, float] | None = None
        self.private: dict[str, str] = {}
        """Source URL → the SSH private key Flux needs to fetch it."""
        self.regressed: set[str] = set()
        """Clusters whose workloads broke after they reconciled (Non-Compliant from now on)."""
        self.writes: list[Write] = []
        self.bucket = self._bucket(rate=1e9, burst=10**9)

    def _bucket(self, *, rate: float, burst: int) -> TokenBucket:
        def sleep(seconds: float) -> None:
            self.clock.advance(seconds)

        return TokenBucket(rate, burst, clock=self.clock.time, sleep=sleep)

    def pace(self, *, rate: float, burst: int) -> None:
        """Writes take tokens from a bucket of `burst` refilled at `rate` per second: a write
        waiting for one moves the virtual clock, as ARM's write pacing holds the gateway."""
        self.bucket = self._bucket(rate=rate, burst=burst)

    def add(self, name: str, offline: bool = False, **tags: str) -> FakeCluster:
        cluster = FakeCluster(
            name, tags, Connectivity.OFFLINE if offline else Connectivity.CONNECTED
        )
        self.clusters[cluster.id.lower()] = cluster
        return cluster

    def cluster(self, cluster_id_: str) -> FakeCluster:
        return self.clusters[cluster_id_.lower()]

    def named(self, name: str) -> FakeCluster:
        return self.clusters[cluster_id(name).lower()]

    # -- reads --------------------------------------------------------------------------

    def _reachable(self) -> None:
        now = self.clock.time()
        if self.outage and self.outage[0] <= now < self.outage[1]:
            raise TransientError("failed to reach ARM: ARM answered 503: ServiceUnavailable")

    def discover(self, selection: FleetSelection) -> list[Cluster]:
        self._reachable()
        return [self._cluster(c) for c in self.clusters.values()]

    def describe(self, cluster_ids: Sequence[str]) -> list[Cluster]:
        self._reachable()
        return [self._cluster(self.cluster(c)) for c in cluster_ids if c.lower() in self.clusters]

    def connectivity(self, cluster_ids: Sequence[str]) -> dict[str, Connectivity | None]:
        self._reachable()
        return {c: self.cluster(c).connectivity for c in cluster_ids}

    def observe(self, commit: str, name: str, cluster_ids: Sequence[str]) -> dict[str, Health]:
        self._reachable()
        return {c: self.read_health(c, name, commit) for c in cluster_ids}

    def read_health(
        self, cluster_id_: str, name: str, commit: str, connectivity: Any = None
    ) -> Health:
        self._reachable()
        cluster = self.cluster(cluster_id_)
        body = self.read_configuration(cluster_id_, name)
        status = FluxStatus.model_validate(body["properties"]) if body else None
        return assess(commit, status, cluster.connectivity)

    def read_configuration(self, cluster_id_: str, name: str) -> dict[str, Any] | None:
        self._reachable()
        cluster = self.cluster(cluster_id_)
        config = cluster.configurations.get(name)
        if config is None:
            return None
        props = dict(config.body.get("properties", {}))
        commit = config.commit
        system = {"lastModifiedBy": config.modified_by, "lastModifiedByType": "Application"}
        reconciled_at = config.written + self._reconcile(cluster)
        settled = self.clock.time() >= reconciled_at
        if settled and not self._fetchable(config):
            props.update(
                provisioningState="Succeeded",
                complianceState="Non-Compliant",
                sourceSyncedCommitId=None,
                statusUpdatedAt=datetime.fromtimestamp(reconciled_at, UTC).isoformat(),
                statuses=[
                    {
                        "kind": "GitRepository",
                        "name": name,
                        "complianceState": "Non-Compliant",
                        "statusConditions": [
                            {
                                "type": "Ready",
                                "status": "False",
                                "reason": "AuthenticationFailed",
                                "message": "ssh: handshake failed: ssh: unable to authenticate",
                            }
                        ],
                    }
                ],
            )
        elif commit is None:
            props.update(provisioningState="Succeeded", complianceState="Compliant")
        elif settled and cluster.connectivity is Connectivity.CONNECTED:
            failing = cluster.name in self.regressed or any(
                commit.startswith(prefix) and fnmatch.fnmatch(cluster.name, glob)
                for prefix, glob in self.failing
            )
            props.update(
                provisioningState="Succeeded",
                sourceSyncedCommitId=f"main/{commit}",
                complianceState="Non-Compliant" if failing else "Compliant",
            )
        else:
            synced = config.previous_commit
            props.update(
                provisioningState="Succeeded",
                sourceSyncedCommitId=f"main/{synced}" if synced else None,
                complianceState="Pending",
            )
        return {"properties": props, "systemData": system}

    def _fetchable(self, config: FakeConfiguration) -> bool:
        url = (config.body["properties"].get("gitRepository") or {}).get("url")
        if url not in self.private:
            return True
        key = base64.b64encode(self.private[url].encode()).decode()
        return config.protected.get("sshPrivateKey") == key

    def read_configurations(
        self, cluster_ids: Sequence[str], name: str
    ) -> dict[str, dict[str, Any] | None]:
        return {c: self.read_configuration(c, name) for c in cluster_ids}

    def _reconcile(self, cluster: FakeCluster) -> float:
        return self.slow.get(cluster.name, self.reconcile_seconds)

    def _cluster(self, cluster: FakeCluster) -> Cluster:
        return Cluster(
            id=cluster.id,
            name=cluster.name,
            tags=cluster.tags,
            resource_group="rg-fleet",
            subscription_id=SUB,
            connectivity_status=cluster.connectivity,
        )

    # -- writes -------------------------------------------------------------------------

    def _refused(self, cluster_id_: str, deadline: datetime | None = None) -> WriteOutcome | None:
        """A write past its deadline (once its token came), or during an outage: not ok, as
        the gateway reports it (after its retries)."""
        waited, allowed, _ = take_turn(self.bucket, deadline, self.clock.utcnow)
        if not allowed:
            assert deadline is not None
            return window_closed(cluster_id_, deadline, waited=waited)
        try:
            self._reachable()
        except TransientError as error:
            return WriteOutcome(
                cluster_id=cluster_id_, ok=False, error="Transient", message=str(error)
            )
        return None

    def put(
        self,
        cluster_id_: str,
        name: str,
        body: dict[str, Any],
        *,
        deadline: datetime | None = None,
    ) -> WriteOutcome:
        cluster = self.cluster(cluster_id_)
        refused = self._refused(cluster_id_, deadline)
        if refused is not None:
            return refused
        before = cluster.configurations.get(name)
        props = dict(body.get("properties", {}))
        protected = props.pop("configurationProtectedSettings", None) or {}
        config = FakeConfiguration(
            body={**body, "properties": props},
            written=self.clock.time(),
            previous_commit=before.commit if before else None,
            protected=dict(protected),
        )
        cluster.configurations[name] = config
        self.writes.append(Write(self.clock.time(), cluster.name, "PUT", config.commit))
        return WriteOutcome(cluster_id=cluster_id_, ok=True, message="written")

    def patch(
        self,
        cluster_id_: str,
        name: str,
        body: dict[str, Any],
        *,
        deadline: datetime | None = None,
    ) -> WriteOutcome:
        """A merge patch of the configuration: what it does not name stays."""
        cluster = self.cluster(cluster_id_)
        refused = self._refused(cluster_id_, deadline)
        if refused is not None:
            return refused
        before = cluster.configurations.get(name)
        if before is None:
            return WriteOutcome(
                cluster_id=cluster_id_, ok=False, error="NotFound", message="absent"
            )
        props = dict(body.get("properties", {}))
        protected = {
            **before.protected,
            **(props.pop("configurationProtectedSettings", None) or {}),
        }
        config = FakeConfiguration(
            body={**before.body, "properties": _merged(before.body["properties"], props)},
            written=self.clock.time(),
            previous_commit=before.commit,
            protected=protected,
        )
        cluster.configurations[name] = config
        self.writes.append(Write(self.clock.time(), cluster.name, "PATCH", config.commit))
        return WriteOutcome(cluster_id=cluster_id_, ok=True, message="patched")

    def write_many(
        self,
        cluster_ids: Sequence[str],
        name: str,
        body: dict[str, Any],
        *,
        patch: bool = False,
        deadlines: Mapping[str, datetime] | None = None,
    ) -> list[WriteOutcome]:
        write = self.patch if patch else self.put
        due = deadlines or {}
        return [write(c, name, body, deadline=due.get(c)) for c in cluster_ids]

    def remove(
        self, cluster_id_: str, name: str, *, deadline: datetime | None = None
    ) -> WriteOutcome:
        cluster = self.cluster(cluster_id_)
        refused = self._refused(cluster_id_, deadline)
        if refused is not None:
            return refused
        if cluster.configurations.pop(name, None) is None:
            return WriteOutcome(
                cluster_id=cluster_id_, ok=False, error="NotFound", message="absent"
            )
        self.writes.append(Write(self.clock.time(), cluster.name, "DELETE", None))
        return WriteOutcome(cluster_id=cluster_id_, ok=True, message="deleted")


def _merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7396): null removes, objects merge, anything else replaces."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


class FakeSecrets:
    """Key Vault for the tests: named secrets, each read counted."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.reads = 0

    def read(self, ref: SecretRef) -> Secret:
        self.reads += 1
        if ref.secret not in self.values:
            raise NotFound(f"Key Vault secret '{ref.secret}' does not exist")
        value = self.values[ref.secret]
        return Secret(value=value, version=hashlib.sha256(value.encode()).hexdigest()[:8])


class FaultyStore:
    """A store that is unreachable while `down` says so (virtual time)."""

    def __init__(self, inner: SqliteStore, down: Callable[[], bool]) -> None:
        self.inner = inner
        self.down = down
        self.layout = inner.layout

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down():
                raise StoreUnavailable("the store is unreachable: connection refused")
            return target(*args, **kwargs)

        return call


class World:
    """The runtime the activities see, on the engine's virtual clock."""

    def __init__(self, state: Path, clock: VirtualClock) -> None:
        self.clock = clock
        self.fleet = FakeFleet(clock)
        self.store_outage: tuple[float, float] | None = None
        inner = SqliteStore(state / "arcwave.db", clock=clock.time)
        self.records = Records(FaultyStore(inner, self._store_down), now=clock.utcnow)  # type: ignore[arg-type]
        self.view = Records(inner, now=clock.utcnow)
        """The same store, always reachable: what a test reads."""
        settings = Settings(store=StoreSettings(kind="sqlite", sqlite_path=state / "arcwave.db"))
        self.secrets = FakeSecrets()
        self.monitor = FakeMonitor(self.fleet)
        self.rt = Runtime(
            settings=settings,
            records=self.records,
            fleet=self.fleet,  # type: ignore[arg-type]
            publisher=DisabledPublisher(),
            secrets=self.secrets,
            now=clock.utcnow,
            monitor=self.monitor,
        )

    def _store_down(self) -> bool:
        now = self.clock.time()
        return bool(self.store_outage and self.store_outage[0] <= now < self.store_outage[1])

    def register(self, **overrides: Any) -> None:
        spec: dict[str, Any] = {
            "name": "baseline",
            "source": {"url": "https://github.com/contoso/fleet-config", "branch": "main"},
            "configuration": {
                "name": "baseline",
                "kustomizations": {"infra": {"path": "./infra"}},
            },
            "fleet": {"subscriptions": [SUB]},
            "waves": [
                {"name": "canary", "selector": {"ring": "canary"}},
                {"name": "broad", "maxConcurrency": 2, "maxFailures": 1},
            ],
            "progressDeadline": "5m",
        }
        spec.update(overrides)
        parsed = validate_track_spec(spec)
        self.view.tracks.update(
            parsed.name,
            lambda t: t.with_spec(parsed),
            default=lambda: TrackRecord.for_spec(parsed, self.clock.utcnow()),
        )


CURRENT: list[World] = []


def rt() -> Runtime:
    """The current world's runtime; each activity takes a millisecond of virtual time, so the
    steps of one rollout keep their order in the timeline."""
    world = CURRENT[-1]
    world.clock.advance(0.001)
    return world.rt


app = df.DFApp()
for blueprint in (track.bp, rollout.bp, wave.bp):
    app.register_functions(blueprint)


ACTIVITIES: dict[str, Callable[[Runtime, Any], Any]] = {
    contracts.PLAN: plan.plan,
    contracts.ADVANCE: advance.advance,
    contracts.OBSERVE: observe.observe,
    contracts.RESTORE: restore.restore,
    contracts.UNRESTORED: restore.mark_unrestored,
    contracts.RECORD: record.record,
    contracts.READ_CONTROL: record.read,
    contracts.RECOVERY: recovery.read_recovery,
    contracts.METRIC_GATES: gates.check,
}
"""Each activity of the app, as the real code over the current world's runtime."""


def _register(name: str, act: Callable[[Runtime, Any], Any]) -> None:
    def activity(payload: Any) -> Any:
        with telemetry.activity(name, payload), failing_fast():
            return act(rt(), payload)

    activity.__name__ = f"{name}_in_world"
    app.activity_trigger(input_name="payload", activity=name)(activity)


for _name, _act in ACTIVITIES.items():
    _register(_name, _act)

INDEX = index_functions(app)


@dataclass
class Harness:
    """One test's engine and world, with the moves a trigger or an operator makes."""

    engine: InProcessEngine
    world: World
    poll_seconds: float = 1.0
    retry: dict[str, float] = field(default_factory=lambda: dict(RETRY))

    @property
    def fleet(self) -> FakeFleet:
        return self.world.fleet

    @property
    def records(self) -> Records:
        return self.world.view

    def now(self) -> datetime:
        return self.world.clock.utcnow()

    def roll(
        self,
        revision: str,
        rollout_id: str,
        *,
        track_name: str = "baseline",
        clusters: list[str] | None = None,
    ) -> None:
        """What a trigger does: make sure the track runs, then send it the revision."""
        spec = self.records.tracks.get(track_name).track_spec()
        instance = f"track:{track_name}"
        if rollout_id and not self._exists(instance):
            self.engine.start("track_orchestrator", instance, None)
        self.engine.raise_event(
            instance,
            "revision",
            {
                "rolloutId": rollout_id,
                "revision": revision,
                "trigger": {"kind": "test", "actor": "pytest"},
                "supersede": spec.supersede.value,
                "timing": {"pollSeconds": self.poll_seconds, "retry": self.retry},
                "clusters": clusters,
            },
        )

    def _exists(self, instance: str) -> bool:
        try:
            status = self.engine.status(instance)
        except Exception:
            return False
        return status.get("runtimeStatus") not in (None, "Completed", "Failed", "Terminated")

    def command(self, rollout_id: str, track_name: str = "baseline", **control: Any) -> None:
        """What the operator API does: change the control block, then wake the rollout."""
        from shared.names import wave_instance

        updated = self.records.rollouts.update(
            track_name,
            rollout_id,
            lambda r: r.model_copy(update={"control": r.control.model_copy(update=control)}),
        )
        for instance in [rollout_id, *(wave_instance(rollout_id, w.name) for w in updated.waves)]:
            try:
                self.engine.raise_event(instance, "control", {"by": "pytest"})
            except Exception:
                continue

    def state_of(self, rollout_id: str, track_name: str = "baseline") -> str | None:
        found = self.records.rollouts.find(track_name, rollout_id)
        return found.state.value if found else None

    def run_for(self, duration: timedelta) -> None:
        """Let `duration` of virtual time pass (or less, if everything goes idle first)."""
        until = self.now() + duration
        try:
            self.engine.run_until(lambda: self.now() >= until)
        except InProcessError:
            self.world.clock.advance_to(until)  # idle before then: nothing else happens

    def instance_status(self, instance_id: str) -> str | None:
        """The runtime status of a durable instance; None when there is none."""
        try:
            return str(self.engine.status(instance_id)["runtimeStatus"])
        except Exception:
            return None

    def wave_state(self, rollout_id: str, wave: str) -> str | None:
        found = self.records.rollouts.find("baseline", rollout_id)
        if found is None or not found.waves:
            return None
        return found.wave(wave).state.value

    def settle(self, rollout_id: str, *states: str, track_name: str = "baseline") -> Any:
        """Run until the rollout reaches one of `states`; its record."""
        self.engine.run_until(lambda: self.state_of(rollout_id, track_name) in states)
        return self.records.rollouts.get(track_name, rollout_id)

    def in_flight_peaks(self, rollout_id: str, wave: str, commit: str) -> tuple[int, int]:
        """The most clusters of `wave` between their write of `commit` and their verdict at
        any instant, overall and of one site (write times from the fleet's log, verdicts
        from the records)."""
        records = self.records.clusters.list("baseline", rollout=rollout_id, wave=wave)
        site = {r.name: r.site or r.name for r in records}
        settled = {r.name: r.settled_at.timestamp() for r in records if r.settled_at}
        written = {}
        for w in self.fleet.writes:
            if w.cluster in site and w.commit == commit and w.cluster not in written:
                written[w.cluster] = w.time
        events = sorted(
            [(t, 1, name) for name, t in written.items()]
            + [(settled[name], -1, name) for name in written if name in settled]
        )
        peak = peak_site = 0
        live: dict[str, int] = {}
        for _, delta, name in events:
            live[site[name]] = live.get(site[name], 0) + delta
            peak = max(peak, sum(live.values()))
            peak_site = max(peak_site, max(live.values()))
        return peak, peak_site


def run_world(state: Path) -> Iterator[Harness]:
    clock = VirtualClock()
    world = World(state, clock)
    CURRENT.append(world)
    try:
        with InProcessEngine(INDEX, state / "engine", clock=clock) as engine:
            yield Harness(engine, world)
    finally:
        CURRENT.remove(world)


def names(records: Mapping[str, Any]) -> list[str]:
    return sorted(records)


class EngineClient:
    """The part of `DurableOrchestrationClient` the triggers use, over the in-process engine,
    so trigger code (the reconciliation) can run against the same world."""

    def __init__(self, engine: InProcessEngine) -> None:
        self.engine = engine

    async def get_status(self, instance_id: str) -> Any:
        from types import SimpleNamespace

        inst = self.engine.engine.store.get_instance(instance_id)
        if inst is None:
            return SimpleNamespace(runtime_status=None, output=None)
        output = self.engine.status(instance_id).get("output")
        return SimpleNamespace(runtime_status=inst.status.value, output=output)

    async def start_new(
        self, name: str, instance_id: str | None = None, client_input: Any = None
    ) -> str:
        return self.engine.start(name, instance_id, client_input)

    async def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        self.engine.raise_event(instance_id, name, data)
