"""A track's queue of revision requests: what arrives, what it replaces, what runs next.

Pure: the track orchestrator keeps the queue in its state and records what this module
decides. Rules:

- a request already taken (queued, run, or replaced) is ignored: a re-sent event runs once,
  and a replaced revision never comes back;
- catch-ups and recoveries queue in the order they came and never replace or stop anything;
- a revision replaces every queued revision (they never start), and under `supersede:
  restart` it asks the running rollout (unless that is a catch-up or a recovery) to stop at its
  next safe point.
"""

from dataclasses import dataclass, field

from shared.contracts.orchestrations import RevisionRequest

SEEN_KEPT = 50
"""How many taken requests a track remembers."""


def request_key(request: RevisionRequest) -> str:
    """What makes a request new: its rollout, or for a recovery also what was found (a later
    look by the reconciliation is a new request)."""
    recover = request.get("recover")
    return request["rolloutId"] + (f":recover:{recover}" if recover else "")


def in_order(request: RevisionRequest) -> bool:
    """Catch-ups and recoveries run in the order they came and never replace anything."""
    return bool(request.get("clusters") or request.get("recover"))


@dataclass
class Received:
    """What arriving requests did to the queue."""

    replaced: list[tuple[RevisionRequest, RevisionRequest]] = field(default_factory=list)
    """(queued, newer): queued revisions that will never start, each with what replaced it."""
    stop_running: RevisionRequest | None = None
    """The newer revision that supersedes the running rollout (`supersede: restart`)."""


@dataclass
class TrackQueue:
    queue: list[RevisionRequest]
    seen: list[str]
    """Keys of requests already taken, newest last."""

    def receive(self, arrivals: list[RevisionRequest], running: RevisionRequest | None) -> Received:
        """Take `arrivals` in order, while `running` (if any) runs."""
        received = Received()
        for newer in arrivals:
            known = {request_key(q) for q in self.queue} | set(self.seen)
            if request_key(newer) in known:
                continue
            if in_order(newer):
                self.queue.append(newer)
                continue
            for older in [q for q in self.queue if not in_order(q)]:
                self.queue.remove(older)
                self.seen.append(request_key(older))
                received.replaced.append((older, newer))
            self.queue.append(newer)
            if newer["supersede"] == "restart" and running and not in_order(running):
                received.stop_running = newer
        return received

    def next(self) -> RevisionRequest:
        """The request to run now (the queue must not be empty)."""
        running = self.queue.pop(0)
        self.seen.append(request_key(running))
        return running

    def kept(self) -> "TrackQueue":
        """What the track carries into its next generation."""
        return TrackQueue(queue=list(self.queue), seen=self.seen[-SEEN_KEPT:])
