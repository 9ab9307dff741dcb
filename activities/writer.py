"""Writing a track's configuration, pinned to a revision, to clusters: the least that does it.

- **PATCH of the pin** where arcwave's last write on the cluster had the same shape (the same
  configuration but the pin, the same secret versions): write-only protected settings and
  anything else arcwave does not own survive;
- **PUT** of the whole configuration, with the secrets `source.auth` names read from Key Vault
  for this write only, where arcwave creates it, the spec changed, or a secret was rotated;
- **re-create** where the configuration arcwave wrote has other create-only fields (`scope`,
  `namespace`) than the spec: DELETE first, and PUT once Azure has removed it (a later attempt
  sees it gone; ARM answers 409 while it is being deleted).

Each write may carry a deadline (`deadlines`, by cluster id: the close of the cluster's
maintenance windows); the gateway does not send a write whose deadline has passed
(`WindowClosed`). The writer returns what happened per cluster; callers record it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.adapters.fleet import WriteOutcome
from shared.desired import desired_configuration, pin_patch, shape, with_secrets
from shared.runtime import Runtime
from shared.secrets import Secret
from shared.store import ClusterRecord
from shared.trackspec import TrackSpec


@dataclass
class Written:
    """The write of one cluster: its outcome (None while a re-create waits for the delete)
    and, on success, what the cluster record must remember of it."""

    record: ClusterRecord
    outcome: WriteOutcome | None
    how: str
    """`patch`, `put`, `delete` (a re-create began) or `wait` (its delete is not done)."""
    remember: dict[str, Any] = field(default_factory=dict)


class ConfigurationWriter:
    """Writes one spec's configuration; secrets are read once, when first needed."""

    def __init__(self, rt: Runtime, spec: TrackSpec) -> None:
        self.rt = rt
        self.spec = spec
        self.name = spec.configuration.name
        self._secrets: dict[str, Secret] | None = None

    def secrets(self) -> dict[str, Secret]:
        if self._secrets is None:
            auth = self.spec.source.auth
            refs = auth.secret_refs() if auth is not None else {}
            self._secrets = {key: self.rt.secrets.read(ref) for key, ref in refs.items()}
        return self._secrets

    def shape(self) -> str:
        return shape(self.spec, self.secrets())

    def placement(self) -> dict[str, Any]:
        """What the record remembers of a successful write."""
        configuration = self.spec.configuration
        return {
            "written_shape": self.shape(),
            "written_scope": configuration.scope.value,
            "written_namespace": configuration.namespace,
            "recreating": False,
        }

    def write(
        self,
        records: list[ClusterRecord],
        revision: str,
        deadlines: Mapping[str, datetime] | None = None,
    ) -> list[Written]:
        """Write `revision` to each record's cluster, the least way that does it; none after
        its deadline (`deadlines`, by cluster id)."""
        if not records:
            return []
        due = deadlines or {}
        current = self.shape()
        patches, puts, deletes, waits = [], [], [], []
        for record in records:
            if record.recreating:
                waits.append(record)
            elif self._create_only_changed(record):
                deletes.append(record)
            elif record.desired_revision is not None and record.written_shape == current:
                patches.append(record)
            else:
                puts.append(record)
        done: list[Written] = []
        gone = self._gone(waits)
        puts += [r for r in waits if r.id in gone]
        done += [Written(r, None, "wait") for r in waits if r.id not in gone]
        done += self._deletes(deletes, due)
        patched = self._patches(patches, revision, due)
        puts += [
            w.record for w in patched if w.outcome is not None and w.outcome.error == "NotFound"
        ]
        done += [w for w in patched if w.outcome is None or w.outcome.error != "NotFound"]
        done += self._puts(puts, revision, due)
        return done

    def _create_only_changed(self, record: ClusterRecord) -> bool:
        if record.desired_revision is None or record.written_scope is None:
            return False
        configuration = self.spec.configuration
        return (record.written_scope, record.written_namespace) != (
            configuration.scope.value,
            configuration.namespace,
        )

    def _gone(self, waits: list[ClusterRecord]) -> set[str]:
        if not waits:
            return set()
        found = self.rt.fleet.read_configurations([r.cluster_id for r in waits], self.name)
        return {r.id for r in waits if found[r.cluster_id] is None}

    def _deletes(self, records: list[ClusterRecord], due: Mapping[str, datetime]) -> list[Written]:
        return [
            Written(r, outcome, "delete", {"recreating": True} if outcome.ok else {})
            for r in records
            for outcome in [
                self.rt.fleet.remove(r.cluster_id, self.name, deadline=due.get(r.cluster_id))
            ]
        ]

    def _patches(
        self, records: list[ClusterRecord], revision: str, due: Mapping[str, datetime]
    ) -> list[Written]:
        outcomes = self.rt.fleet.write_many(
            [r.cluster_id for r in records],
            self.name,
            pin_patch(self.spec, revision),
            patch=True,
            deadlines=due,
        )
        remember = self.placement()
        return [Written(r, o, "patch", remember) for r, o in zip(records, outcomes, strict=True)]

    def _puts(
        self, records: list[ClusterRecord], revision: str, due: Mapping[str, datetime]
    ) -> list[Written]:
        if not records:
            return []
        body = with_secrets(desired_configuration(self.spec, revision), self.spec, self.secrets())
        ids = [r.cluster_id for r in records]
        outcomes = self.rt.fleet.write_many(ids, self.name, body, deadlines=due)
        remember = self.placement()
        return [Written(r, o, "put", remember) for r, o in zip(records, outcomes, strict=True)]
