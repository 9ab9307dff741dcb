"""Signed hostile webhooks against a live stack: each Git provider's reference push, mutated by
hypothesis and signed (or authenticated) the way that provider does it, so that every request
passes the signature check and reaches what lies behind it: the parser, the dedupe, the
ordering of pushes and the hand-over to a track. (test_fuzz.py sends unsigned random bodies,
which stop at the signature check.)

Two tracks per provider follow the repository of its reference push, one cluster each:

- `replay-<provider>` follows the reference push's branch. The fixture primes it with the
  reference push as published: 202, the one rollout it ever gets. A mutated copy of that push
  is then a replay or a stale push at best, so none may answer 202, add a rollout or move the
  track's head.
- `fresh-<provider>` follows another branch. Each example pushes a new commit on top of the one
  the track took last, mutated only where nothing says which repository, branch or commits it
  moves: a valid newer push unless a mutation broke a field the parser reads. So the answer is
  202 handing exactly that commit to that track, or a 400 naming the mutated field.

What is generated, for each provider:

- structural mutations of the reference body, one to three at random paths: a key deleted, a
  value replaced by any JSON value (null, numbers big and small, strings of any unicode, lone
  surrogates, strings of up to 20 KiB, times at both ends of the calendar, lists, objects) or
  by itself changed (as a string, in a list, in an object, upper-cased, padded, extended by
  KiBs), a list item repeated up to 60 times (many refs in one push); the body encoded
  ASCII-escaped or as raw UTF-8;
- headers: the event-type header missing, blank, another real event, garbage; the content
  type JSON, anything, none, form-encoded (GitHub and Gitea, which document it) with a form or
  a JSON body; the delivery header missing, garbage or 4 KiB; extra headers;
- raw bodies: random bytes, the reference truncated, followed by garbage or after a BOM, JSON
  that is not an object, lists nested past the parser's depth, invalid UTF-8 inside a string;
- Bitbucket bodies just under, at and over its 256 KiB cap;
- one push moving 40 long-named branches no track follows (Bitbucket, Azure DevOps).

Every answer is JSON under 16 KiB, with a status triggers/git.py documents for a signed
delivery to a known provider: 200, 202 or 400 within the provider's cap, 413 over it (401 is a
signature the test got wrong, 404 an unknown provider, 409/503 the store: none may occur). What
each answer must be comes from the documented contract (docs/webhooks.md), never from the
app's own parser: a 400 names (`errors[].loc`) a mutated path (or `body` when the mutation made
the body invalid JSON); a mutation that leaves every field the parser reads alone is a replay,
`{"duplicate": true}`; each header case has one documented answer. After the module: the
rollouts started by webhooks are exactly the ones 202 answers handed over, the emulator got no
write that no rollout explains, no answer was a 5xx, healthz answers, devhost runs and its log
has no traceback. The figures go to ARCWAVE_FUZZ_REPORT under `webhooks`
(tests/e2e/fuzz_support.py; ARCWAVE_FUZZ=full is the long run).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_plus

import pytest
import requests
from fuzz_support import SEED, Operations, Tally, assert_host_alive, size
from hypothesis import HealthCheck, assume, event, example, given, note, seed, settings
from hypothesis import strategies as st
from rollout_support import ROOT, SUB, WEBHOOK_SECRET, Stack, running_stack

from shared.ordering import BranchHead
from shared.webhooks.limits import git_body_limit
from tests.unit.webhooks.webhooks_support import (
    bitbucket_push,
    sign_azuredevops,
    sign_bitbucket,
    sign_gitea,
    sign_github,
    sign_gitlab,
)

pytestmark = pytest.mark.e2e

REPLAYS = size(short=30, full=600)
FRESH = size(short=8, full=100)
HEADERS = size(short=20, full=300)
RAW = size(short=15, full=250)
CAP = size(short=3, full=40)
"""Examples per provider (CAP: Bitbucket only, plus its three edges): the normal suite sends
about 380 requests (seconds), ARCWAVE_FUZZ=full about 6,300."""


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


ANSWER_LIMIT = 16 * 1024
SIGNED_ANSWERS = {200, 202, 400}
"""What triggers/git.py answers a signed delivery within its provider's cap."""
BITBUCKET_CAP = 256 * 1024
FRESH_BRANCH = "fuzz-fresh"
SHA = re.compile(r"[0-9a-fA-F]{40}")
ZERO = "0" * 40

Path = tuple[str | int, ...]
Json = Any
DUPLICATE = {"duplicate": True}
PING = {"ping": True}


# The providers -----------------------------------------------------------------------------


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "tests/payloads" / name).read_text())
    return data


def _top_refs(data: dict[str, Any], branch: str, before: str, after: str) -> None:
    data.update(ref=f"refs/heads/{branch}", before=before, after=after)


def _azure_refs(data: dict[str, Any], branch: str, before: str, after: str) -> None:
    data["resource"]["refUpdates"][0].update(
        name=f"refs/heads/{branch}", oldObjectId=before, newObjectId=after
    )


def _bitbucket_refs(data: dict[str, Any], branch: str, before: str, after: str) -> None:
    change = data["push"]["changes"][0]
    change["old"].update(name=branch)
    change["old"]["target"]["hash"] = before
    change["new"].update(name=branch)
    change["new"]["target"]["hash"] = after


@dataclass(frozen=True)
class Provider:
    """One provider as this module fuzzes it: its reference push, the track that follows it,
    where the fields are that say which repository, branch and commits it moves, and its
    headers with their documented answers."""

    name: str
    what: str
    """What its 400s call the body: `invalid <what>`."""
    reference: dict[str, Any]
    url: str
    branch: str
    set_refs: Callable[[dict[str, Any], str, str, str], None]
    """Put (branch, before, after) into a copy of the reference."""
    before: Path
    after: Path
    critical: tuple[Path, ...]
    """The repository URLs, the ref, the commits and whatever else decides whether the body is
    a push of this branch to this commit: a mutation there may make it anything but a 202."""
    dedupe: tuple[Path, ...]
    """Other inputs of the derived delivery id (docs/webhooks.md, Delivery ids): a mutation
    there may make the replay a stale push rather than a duplicate."""
    sign: Callable[[bytes, str], dict[str, str]]
    """The headers the provider sends with a body, for an event."""
    event_headers: tuple[str, ...] = ()
    push_event: str = ""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Event types with an answer of their own (for the intact reference body); any other is
    `{"ignored": "event '<type>' is not a push"}`."""
    other_events: tuple[str, ...] = ()
    delivery_headers: tuple[str, ...] = ()
    form: bool = False
    """It documents `application/x-www-form-urlencoded` bodies (`payload=<json>`)."""

    def value(self, data: Json, path: Path) -> Json:
        for key in path:
            data = data[key]
        return data

    @property
    def reference_after(self) -> str:
        return str(self.value(self.reference, self.after))

    @property
    def reference_before(self) -> str:
        return str(self.value(self.reference, self.before))

    def touches(self, path: Path, paths: tuple[Path, ...]) -> bool:
        """Whether a mutation at `path` changes one of `paths` (or something inside one)."""
        return any(path == p[: len(path)] or p == path[: len(p)] for p in paths)


GITHUB = Provider(
    name="github",
    what="GitHub push payload",
    reference=_load("github-push-new-branch.json"),
    url="https://github.com/Codertocat/Hello-World",
    branch="master",
    set_refs=_top_refs,
    before=("before",),
    after=("after",),
    critical=(
        ("ref",),
        ("before",),
        ("after",),
        ("deleted",),
        *(("repository", k) for k in ("clone_url", "ssh_url", "html_url", "git_url")),
    ),
    dedupe=(("repository", "pushed_at"),),
    sign=lambda body, event: sign_github(body, event=event, secret=WEBHOOK_SECRET),
    event_headers=("X-GitHub-Event",),
    push_event="push",
    events={"push": DUPLICATE, "ping": PING},
    other_events=("ping", "issues", "create", "delete", "pull_request", "Push", "PUSH"),
    delivery_headers=("X-GitHub-Delivery",),
    form=True,
)
GITLAB = Provider(
    name="gitlab",
    what="GitLab push payload",
    reference=_load("gitlab-push.json"),
    url="http://example.com/mike/diaspora",
    branch="master",
    set_refs=_top_refs,
    before=("before",),
    after=("after",),
    critical=(
        ("ref",),
        ("before",),
        ("after",),
        *(
            ("project", k)
            for k in ("git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url")
        ),
        *(("repository", k) for k in ("git_http_url", "git_ssh_url", "homepage")),
    ),
    dedupe=(),
    sign=lambda body, event: sign_gitlab(body, event=event, token=WEBHOOK_SECRET),
    event_headers=("X-Gitlab-Event",),
    push_event="Push Hook",
    events={
        "Push Hook": DUPLICATE,
        "Tag Push Hook": {"ignored": "tag push"},
        # A System Hook is read by its object_kind, which is `push` in the reference.
        "System Hook": DUPLICATE,
    },
    other_events=("Tag Push Hook", "System Hook", "Merge Request Hook", "Note Hook", "push hook"),
    delivery_headers=("X-Gitlab-Event-UUID", "Idempotency-Key"),
)
GITEA = Provider(
    name="gitea",
    what="Gitea push payload",
    reference=_load("gitea-push.json"),
    url="http://localhost:3000/gitea/webhooks",
    branch="develop",
    set_refs=_top_refs,
    before=("before",),
    after=("after",),
    critical=(
        ("ref",),
        ("before",),
        ("after",),
        *(("repository", k) for k in ("clone_url", "ssh_url", "html_url")),
    ),
    dedupe=(),
    sign=lambda body, event: sign_gitea(body, event=event, secret=WEBHOOK_SECRET),
    event_headers=("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event", "X-GitHub-Event"),
    push_event="push",
    events={"push": DUPLICATE},
    other_events=("create", "delete", "pull_request", "release", "ping", "Push"),
    delivery_headers=(
        "X-Forgejo-Delivery",
        "X-Gitea-Delivery",
        "X-Gogs-Delivery",
        "X-GitHub-Delivery",
    ),
    form=True,
)
_CHANGE: Path = ("push", "changes", 0)
BITBUCKET = Provider(
    name="bitbucket",
    what="Bitbucket push payload",
    reference=bitbucket_push(),
    url="https://bitbucket.org/contoso/fleet-config",
    branch="main",
    set_refs=_bitbucket_refs,
    before=(*_CHANGE, "old", "target", "hash"),
    after=(*_CHANGE, "new", "target", "hash"),
    critical=(
        ("repository", "full_name"),
        ("repository", "links", "html", "href"),
        ("repository", "links", "clone"),
        (*_CHANGE, "new", "type"),
        (*_CHANGE, "new", "name"),
        (*_CHANGE, "new", "target", "hash"),
        (*_CHANGE, "old", "target", "hash"),
    ),
    dedupe=(),
    sign=lambda body, event: sign_bitbucket(body, event=event, secret=WEBHOOK_SECRET),
    event_headers=("X-Event-Key",),
    push_event="repo:push",
    events={
        "repo:push": DUPLICATE,
        "diagnostics:ping": PING,
        "repo:refs_changed": {
            "ignored": "event 'repo:refs_changed' is not a push "
            "(Bitbucket Data Center is not supported)"
        },
    },
    other_events=("diagnostics:ping", "repo:refs_changed", "pullrequest:created", "Repo:Push"),
    delivery_headers=("X-Request-UUID",),
)
_UPDATE: Path = ("resource", "refUpdates", 0)
AZURE_DEVOPS = Provider(
    name="azuredevops",
    what="Azure DevOps git.push payload",
    reference=_load("azure-devops-git-push-2022.json"),
    url="https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git",
    branch="master",
    set_refs=_azure_refs,
    before=(*_UPDATE, "oldObjectId"),
    after=(*_UPDATE, "newObjectId"),
    critical=(
        ("eventType",),
        (*_UPDATE, "name"),
        (*_UPDATE, "oldObjectId"),
        (*_UPDATE, "newObjectId"),
        *(("resource", "repository", k) for k in ("remoteUrl", "sshUrl", "webUrl")),
    ),
    dedupe=(("resource", "date"),),
    # No event header: the body's eventType names the event.
    sign=lambda body, event: sign_azuredevops(body, secret=WEBHOOK_SECRET),
)
PROVIDERS = {p.name: p for p in (GITHUB, GITLAB, GITEA, BITBUCKET, AZURE_DEVOPS)}
NAMES = list(PROVIDERS)


def replay_track(provider: Provider) -> str:
    return f"replay-{provider.name}"


def fresh_track(provider: Provider) -> str:
    return f"fresh-{provider.name}"


# Talking to the stack ----------------------------------------------------------------------


class Signed(dict[str, str]):
    """Request headers that carry a signature, a token or a password: their repr (in a failed
    test's traceback, say) shows none of it."""

    def __repr__(self) -> str:
        return f"<signed headers: {', '.join(self)}>"


def signed(provider: Provider, body: bytes) -> Signed:
    return Signed(provider.sign(body, provider.push_event))


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    def __str__(self) -> str:
        return f"{self.status} {json.dumps(self.body)[:600]}"


@dataclass(frozen=True)
class Started:
    """A rollout a 202 handed over."""

    rollout_id: str
    track: str
    revision: str
    kind: str


@dataclass(repr=False)
class Hooks:
    """The module's client: every request counted into the tally and checked for what any
    answer of the route must be; what the 202s handed over; each fresh track's newest commit."""

    stack: Stack
    tally: Tally
    session: requests.Session
    started: list[Started] = field(default_factory=list)
    heads: dict[str, str | None] = field(default_factory=dict)
    replay_heads: dict[str, BranchHead] = field(default_factory=dict)
    shas: Iterator[int] = field(default_factory=itertools.count)

    def __repr__(self) -> str:
        return f"<hooks: {self.tally.total} requests, {len(self.started)} rollouts started>"

    def post(self, provider: Provider, strategy: str, body: bytes, headers: Signed) -> Answer:
        response = self.session.post(
            f"{self.stack.host.base_url}/api/hooks/{provider.name}",
            data=body,
            headers=headers,
            timeout=60,
        )
        status = response.status_code
        self.tally.count(f"POST /api/hooks/{provider.name} ({strategy})", status)
        text = response.content[:600].decode("utf-8", "replace")
        assert status < 500, f"{provider.name} answered {status}: {text}"
        assert len(response.content) < ANSWER_LIMIT, (
            f"{provider.name} answered {len(response.content):,} bytes: {text}"
        )
        media = response.headers.get("Content-Type", "")
        assert media.startswith("application/json"), (status, media, text)
        return Answer(status, json.loads(response.content))

    def fresh_sha(self, provider: Provider) -> str:
        """A commit no track has seen: one per call, the same sequence in every run."""
        return hashlib.sha1(f"{provider.name}-{next(self.shas)}".encode()).hexdigest()

    def track_head(self, track: str) -> BranchHead | None:
        head: BranchHead | None = self.stack.records.tracks.get(track).head
        return head

    def hook_rollouts(self, track: str) -> list[str]:
        return [
            r.id
            for r in self.stack.records.rollouts.list(track)
            if r.trigger.kind.startswith("git:")
        ]

    def handed(self, provider: Provider, track: str, commit: str, answer: Answer) -> None:
        """A 202 must hand exactly `commit` to `track` (and nothing else), as a rollout the
        store holds; it is recorded for the accounting at the end."""
        assert answer.status == 202, answer
        assert set(answer.body) == {"tracks"}, answer
        [handed] = answer.body["tracks"]
        assert set(handed) == {"track", "revision", "rolloutId", "queued"}, answer
        assert (handed["track"], handed["revision"]) == (track, commit), answer
        assert isinstance(handed["rolloutId"], str) and isinstance(handed["queued"], bool)
        rollout = self.stack.records.rollouts.find(track, handed["rolloutId"])
        assert rollout is not None, f"the 202 names a rollout the store does not hold: {answer}"
        assert (rollout.revision, rollout.trigger.kind) == (commit, f"git:{provider.name}")
        self.started.append(Started(rollout.id, track, commit, rollout.trigger.kind))


def track_overrides(name: str, url: str, branch: str, site: str) -> dict[str, Any]:
    """A small track: one cluster, one wave, its own Flux configuration."""
    return {
        "name": name,
        "source": {"url": url, "branch": branch},
        "configuration": {"name": name, "kustomizations": {"infra": {"path": "./infra"}}},
        "fleet": {"subscriptions": [SUB], "tags": {"ring": "canary", "site": site}},
        "waves": [{"name": "all"}],
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("webhook-fuzz")) as running:
        running.register()
        for provider in PROVIDERS.values():
            url, branch = provider.url, provider.branch
            running.register(**track_overrides(replay_track(provider), url, branch, "site-1"))
            running.register(**track_overrides(fresh_track(provider), url, FRESH_BRANCH, "site-2"))
        yield running


@pytest.fixture(scope="module")
def hooks(stack: Stack) -> Iterator[Hooks]:
    tally = Tally(Operations([("POST", "/api/hooks/{provider}")]), stack.host.function_key)
    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy from the environment
    client = Hooks(stack, tally, session)
    for provider in PROVIDERS.values():
        _prime(client, provider)
    yield client
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    tally.report("webhooks" + (f"-{worker}" if worker else ""), rollouts=len(client.started))
    assert tally.server_errors == [], tally.server_errors
    _account_for_rollouts(client)
    assert_host_alive(stack)


def _prime(hooks: Hooks, provider: Provider) -> None:
    """The reference push as published: 202, handing its commit to its replay track."""
    body = compact(provider.reference)
    answer = hooks.post(provider, "reference", body, signed(provider, body))
    track = replay_track(provider)
    hooks.handed(provider, track, provider.reference_after, answer)
    head = hooks.track_head(track)
    assert head is not None and head.commit == provider.reference_after
    hooks.replay_heads[provider.name] = head


def _account_for_rollouts(hooks: Hooks) -> None:
    """The rollouts webhooks started are the ones the 202s handed over, and every write the
    emulator got names the revision of a rollout."""
    stored = hooks.stack.records.rollouts.list()
    from_hooks = {
        Started(r.id, r.track, r.revision, r.trigger.kind)
        for r in stored
        if r.trigger.kind.startswith("git:")
    }
    unexplained = sorted(from_hooks - set(hooks.started), key=str)
    missing = sorted(set(hooks.started) - from_hooks, key=str)
    assert not unexplained and not missing, (
        f"{len(unexplained)} rollouts no 202 handed over, such as {unexplained[:3]}; "
        f"{len(missing)} handed over but not stored, such as {missing[:3]}"
    )
    assert not [r.id for r in stored if r.track == "baseline"]
    revisions = {None, *(r.revision for r in stored), *(r.previous_revision for r in stored)}
    strays = [w for w in hooks.stack.writes() if w.get("commit") not in revisions]
    assert strays == [], f"writes no rollout explains: {strays[:5]}"


# Bodies and their mutations ----------------------------------------------------------------


def compact(data: Json, *, ascii_only: bool = True) -> bytes:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


def loc(path: Path) -> str:
    """A path as a 400 names it: `commits[0].added`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def paths_in(data: Json, prefix: Path = ()) -> list[Path]:
    """Every key and list item under `data` (not `data` itself)."""
    found: list[Path] = []
    items: list[tuple[str | int, Json]] = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    for key, value in items:
        found.append((*prefix, key))
        found.extend(paths_in(value, (*prefix, key)))
    return found


def _parent(data: Json, path: Path) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def has_surrogate(value: Json) -> bool:
    """Whether a lone surrogate is anywhere in `value`: valid JSON once escaped, but no UTF-8
    text, and the app's JSON reader refuses it (400 at `body`)."""
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    return False


@dataclass(frozen=True)
class Mutation:
    op: str
    path: Path
    value: Json = None

    def __str__(self) -> str:
        shown = "" if self.op == "delete" else f" = {ascii(self.value)[:100]}"
        return f"{self.op} {loc(self.path) or '<root>'}{shown}"


@st.composite
def _long_texts(draw: st.DrawFn) -> str:
    unit = draw(st.text(min_size=1, max_size=6))
    length = draw(st.integers(1024, 20 * 1024))
    return (unit * (length // len(unit) + 1))[:length]


LONG_TEXT = _long_texts()
"""1 to 20 KiB of text, cheaply."""
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999+00:00",
            "2026-02-30T10:00:00Z",
            "2026-11-26T10:00:00",
        ]
    ),
    st.datetimes(timezones=OFFSETS).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.integers(),
    st.sampled_from([2**31, -(2**31), 253402300800, -62135596801, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
)
"""Times as providers spell them (ISO 8601, epoch seconds), in and out of range."""
TIME_KEYS = {"pushed_at", "timestamp", "date", "created_at", "updated_at", "createdDate"}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**40, -(10**40), 0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0x80), max_size=20),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),
    st.sampled_from(["", " ", ZERO, "refs/heads/", "refs/tags/v1", "null", "{}", "\u0000"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)
RETYPES = ["string", "list", "object", "number", "upper", "pad", "extend", "bool"]


def retyped(how: str, value: Json, long_text: str) -> Json:
    """`value` changed in type or shape: the same content as the parser may not expect it."""
    if how == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if how == "list":
        return [value]
    if how == "object":
        return {"value": value}
    if how == "number":
        return len(value) if isinstance(value, str | list | dict) else 1
    if how == "bool":
        return bool(value)
    if not isinstance(value, str):
        return value
    if how == "upper":
        return value.upper()
    if how == "pad":
        return f" \t{value}\n"
    return value + long_text  # extend


class Mutated:
    """A mutated body, shown (when an example fails) as its mutations alone."""

    def __init__(self, body: dict[str, Any], done: list[Mutation]) -> None:
        self.body, self.done = body, done

    def __repr__(self) -> str:
        return "; ".join(map(str, self.done))


@st.composite
def mutations(
    draw: st.DrawFn, provider: Provider, *, free_only: bool, base: dict[str, Any]
) -> Mutated:
    """`base` with one to three mutations at random paths: anywhere, or (`free_only`) only where
    the match and the chain of commits are not (`Provider.critical`)."""
    data = copy.deepcopy(base)
    done: list[Mutation] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = [
            p for p in paths_in(data) if not (free_only and provider.touches(p, provider.critical))
        ]
        focus = [p for p in paths if provider.touches(p, provider.critical + provider.dedupe)]
        focused = bool(focus) and draw(st.booleans())
        path = draw(st.sampled_from(focus if focused else paths))
        parent, key = _parent(data, path), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "retype", "repeat"]))
        if op == "delete":
            del parent[key]
            done.append(Mutation("delete", path))
            continue
        if op == "repeat" and isinstance(parent[key], list) and parent[key]:
            # An item many times over: a push of many refs, a long commit list.
            items = parent[key]
            item = items[draw(st.integers(0, len(items) - 1))]
            parent[key] = items + [copy.deepcopy(item) for _ in range(draw(st.integers(1, 60)))]
            done.append(Mutation("repeat", path, len(parent[key])))
            continue
        if op in ("replace", "repeat"):
            values = st.one_of(JSON_VALUES, LONG_TEXT)
            if key in TIME_KEYS:
                values = st.one_of(TIMES, values)
            value = draw(values)
        else:
            value = retyped(draw(st.sampled_from(RETYPES)), parent[key], draw(LONG_TEXT))
        parent[key] = value
        done.append(Mutation("replace" if op == "repeat" else op, path, value))
    return Mutated(data, done)


def related(problem: str, paths: list[Path]) -> bool:
    """Whether a 400's `loc` is at, above or under one of `paths` (list indices aside: a
    deleted item moves the ones after it)."""
    wild = re.compile(r"\[\d+\]")
    found = wild.sub("[]", problem)
    for path in paths:
        mutated = wild.sub("[]", loc(path))
        for a, b in ((found, mutated), (mutated, found)):
            if a == b or a.startswith((f"{b}.", f"{b}[")):
                return True
    return False


def check_refusal(provider: Provider, answer: Answer, done: list[Mutation]) -> None:
    """A 400 says it is the provider's push payload that is invalid, and names only paths the
    mutations changed (or `body`, when one made it invalid JSON)."""
    assert answer.body["error"] == f"invalid {provider.what}", answer
    problems = [p for p in answer.body["errors"] if p["type"] != "more"]
    assert problems, answer
    surrogate = any(has_surrogate(m.value) for m in done)
    for problem in problems:
        if surrogate and problem["loc"] == "body":
            continue
        assert related(problem["loc"], [m.path for m in done]), (
            f"a 400 names {problem['loc']!r}, which no mutation touched: {answer}"
        )


def is_stale(provider: Provider, body: Any) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"ignored", "reason", "tracks"}
        and body["reason"] == "Stale"
        and body["tracks"] == []
        and body["ignored"].startswith(f"track '{replay_track(provider)}': ")
    )


def starts_nothing(body: Any) -> bool:
    """A 200 that starts nothing, in one of the shapes triggers/git.py answers."""
    if not isinstance(body, dict):
        return False
    if body in (DUPLICATE, {"tracks": []}):
        return True
    ignored = isinstance(body.get("ignored"), str) and body["ignored"] != ""
    return ignored and (
        set(body) == {"ignored"}
        or (set(body) == {"ignored", "tracks"} and body["tracks"] == [])
        or (set(body) == {"ignored", "reason", "tracks"} and body["reason"] == "Stale")
    )


def new_commits(provider: Provider, done: list[Mutation]) -> bool:
    """Whether a mutation put a full sha other than the reference's where the pushed commit
    goes: that would be a real new push, which may rightly start a rollout."""
    for mutation in done:
        value = mutation.value
        if not (provider.touches(mutation.path, (provider.after,)) and isinstance(value, str)):
            continue
        if SHA.fullmatch(value.strip()) and value.strip().lower() != provider.reference_after:
            return True
    return False


# Structural mutations ----------------------------------------------------------------------


def refused_over_the_cap(name: str, raw: bytes, answer: Any) -> bool:
    """A mutated body over its provider's cap (long strings escaped as `\\uXXXX` outgrow
    Bitbucket's 256 KiB): it must be the 413 naming the cap, and nothing else is checked."""
    if len(raw) <= git_body_limit(name):
        return False
    event("over the cap -> 413")
    assert answer.status == 413 and answer.body["limit"] == git_body_limit(name), answer
    return True


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@fuzz(REPLAYS)
@given(data=st.data(), ascii_only=st.booleans())
def test_replayed_pushes_with_mutations(
    hooks: Hooks, name: str, data: st.DataObject, ascii_only: bool
) -> None:
    """The primed reference push, mutated anywhere: never a 202, never a rollout, the replay
    track's head unmoved; a duplicate when the parser's fields are untouched."""
    provider = PROVIDERS[name]
    mutated = data.draw(mutations(provider, free_only=False, base=provider.reference))
    body, done = mutated.body, mutated.done
    assume(not new_commits(provider, done))
    raw = compact(body, ascii_only=ascii_only)
    answer = hooks.post(provider, "replay", raw, signed(provider, raw))
    if refused_over_the_cap(name, raw, answer):
        return
    scope = (
        "critical"
        if any(provider.touches(m.path, provider.critical) for m in done)
        else "dedupe"
        if any(provider.touches(m.path, provider.dedupe) for m in done)
        else "free"
    )
    event(f"{scope} -> {answer.status}")
    assert answer.status in SIGNED_ANSWERS - {202}, answer
    if answer.status == 400:
        check_refusal(provider, answer, done)
    elif scope == "critical":
        assert starts_nothing(answer.body), answer
    elif scope == "dedupe":
        assert answer.body == DUPLICATE or is_stale(provider, answer.body), answer
    else:
        assert answer.body == DUPLICATE, answer
    track = replay_track(provider)
    assert hooks.track_head(track) == hooks.replay_heads[name], "a replay moved the head"
    assert len(hooks.hook_rollouts(track)) == 1, "a replay started a rollout"


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@fuzz(FRESH)
@given(data=st.data(), ascii_only=st.booleans())
def test_fresh_pushes_with_mutations(
    hooks: Hooks, name: str, data: st.DataObject, ascii_only: bool
) -> None:
    """A new commit on top of the fresh track's newest, mutated away from the match and the
    chain: 202 handing over exactly that commit, or a 400 naming a mutated field."""
    provider = PROVIDERS[name]
    track = fresh_track(provider)
    before = hooks.heads.get(name) or provider.reference_before
    after = hooks.fresh_sha(provider)
    base = copy.deepcopy(provider.reference)
    provider.set_refs(base, FRESH_BRANCH, before, after)
    mutated = data.draw(mutations(provider, free_only=True, base=base))
    body, done = mutated.body, mutated.done
    raw = compact(body, ascii_only=ascii_only)
    answer = hooks.post(provider, "fresh", raw, signed(provider, raw))
    if refused_over_the_cap(name, raw, answer):
        head = hooks.track_head(track)
        assert (head.commit if head else None) == hooks.heads.get(name), "a 413 moved the head"
        return
    event(f"-> {answer.status}")
    assert answer.status in {202, 400}, answer
    if answer.status == 400:
        check_refusal(provider, answer, done)
        head = hooks.track_head(track)
        assert (head.commit if head else None) == hooks.heads.get(name), "a 400 moved the head"
        return
    hooks.handed(provider, track, after, answer)
    hooks.heads[name] = after


# Headers -----------------------------------------------------------------------------------

HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=64).map(
    str.lstrip
)
"""What an HTTP client sends as a header value: printable ASCII (no leading blank)."""
FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "text/plain",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
    "",
    None,
]


@dataclass(frozen=True)
class HeaderCase:
    event: str | None
    """The event header's value (None: left out)."""
    content_type: str | None
    form_body: bool
    delivery: str | None
    extra: dict[str, str]


@st.composite
def header_cases(draw: st.DrawFn, provider: Provider) -> HeaderCase:
    event = draw(
        st.one_of(
            st.none(),
            st.just(""),
            st.just(provider.push_event),
            st.sampled_from(provider.other_events or ("",)),
            HEADER_TEXT,
        )
    )
    forms = [FORM, f"{FORM}; charset=utf-8"] if provider.form else []
    content_type = draw(st.one_of(st.sampled_from(CONTENT_TYPES + forms), HEADER_TEXT))
    delivery = draw(
        st.one_of(st.none(), st.uuids().map(str), HEADER_TEXT, st.just("d" * 4096), st.just(""))
    )
    extra = draw(
        st.dictionaries(
            st.from_regex(r"X-Fuzz-[A-Za-z0-9]{1,12}", fullmatch=True), HEADER_TEXT, max_size=3
        )
    )
    return HeaderCase(event, content_type, provider.form and draw(st.booleans()), delivery, extra)


def is_form(content_type: str | None) -> bool:
    """Whether a Content-Type names a form body (media types are case-insensitive)."""
    return (content_type or "").split(";")[0].strip().lower() == FORM


def expected_for_headers(provider: Provider, case: HeaderCase) -> tuple[int, Any]:
    """The documented answer to the intact reference push with these headers: the event header
    is read first, then the body (as the content type says), then the event decides."""
    event = None if case.event is None else case.event.strip()
    if provider.event_headers and not event:
        return 400, f"headers.{provider.event_headers[0]}"
    if is_form(case.content_type) and not case.form_body:
        return 400, "body.payload"
    if case.form_body and not is_form(case.content_type):
        return 400, "body"
    if not provider.event_headers:
        return 200, DUPLICATE
    assert event is not None
    return 200, provider.events.get(event, {"ignored": f"event '{event}' is not a push"})


def with_case(provider: Provider, raw: bytes, case: HeaderCase) -> Signed:
    """The provider's headers for `raw`, then the case's (None: the header left out)."""
    headers = signed(provider, raw)
    changes: dict[str, str | None] = {
        **dict.fromkeys([n for n in provider.event_headers if n in headers], case.event),
        **dict.fromkeys([n for n in provider.delivery_headers if n in headers], case.delivery),
        "Content-Type": case.content_type,
        **case.extra,
    }
    for name, value in changes.items():
        headers.pop(name, None)
        if value is not None:
            headers[name] = value
    return headers


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@fuzz(HEADERS)
@given(data=st.data())
def test_headers(hooks: Hooks, name: str, data: st.DataObject) -> None:
    """The intact reference push under any event, content type and delivery header: each case
    has one documented answer, and none starts anything."""
    provider = PROVIDERS[name]
    case = data.draw(header_cases(provider))
    body = compact(provider.reference)
    if case.form_body:
        body = b"payload=" + quote_plus(body.decode()).encode()
    answer = hooks.post(provider, "headers", body, with_case(provider, body, case))
    status, expected = expected_for_headers(provider, case)
    event(f"expected {status} {json.dumps(expected)[:60]}")
    assert answer.status == status, answer
    if status == 400:
        assert answer.body["error"] == f"invalid {provider.what}", answer
        assert [p["loc"] for p in answer.body["errors"]] == [expected], answer
    else:
        assert answer.body == expected, answer


# Raw bodies --------------------------------------------------------------------------------

BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\x80"]
PLACEHOLDER = "fuzz-placeholder-0d8a"


@st.composite
def raw_bodies(draw: st.DrawFn, provider: Provider) -> tuple[str, bytes]:
    reference = compact(provider.reference)
    kind = draw(
        st.sampled_from(
            ["bytes", "truncated", "trailing", "bom", "not an object", "nested", "bad utf-8"]
        )
    )
    if kind == "bytes":
        return kind, draw(st.binary(max_size=600))
    if kind == "truncated":
        return kind, reference[: draw(st.integers(0, len(reference) - 1))]
    if kind == "trailing":
        tail = draw(st.binary(min_size=1, max_size=40).filter(lambda b: b.strip() != b""))
        return kind, reference + tail
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + reference
    if kind == "not an object":
        return kind, compact(draw(st.one_of(st.lists(SCALARS, max_size=3), SCALARS)))
    if kind == "nested":
        depth = draw(st.integers(1, 5000))
        return kind, b"[" * depth + b"]" * depth
    data = copy.deepcopy(provider.reference)
    strings = [p for p in paths_in(data) if isinstance(provider.value(data, p), str)]
    path = draw(st.sampled_from(strings))
    _parent(data, path)[path[-1]] = PLACEHOLDER
    bad = draw(st.sampled_from(BAD_UTF8))
    return kind, compact(data).replace(PLACEHOLDER.encode(), b"x" + bad + b"y")


def json_object(body: bytes) -> bool:
    """Whether Python's own reader finds a JSON object in `body` (then any documented answer
    but a 202 will do: random bytes make no push of a followed branch)."""
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@fuzz(RAW)
@given(data=st.data())
def test_raw_bodies(hooks: Hooks, name: str, data: st.DataObject) -> None:
    """Bodies that are no JSON object, signed: a 400 naming the body."""
    provider = PROVIDERS[name]
    kind, body = data.draw(raw_bodies(provider))
    note(f"{kind}: {body[:200]!r}")
    event(kind)
    answer = hooks.post(provider, "raw", body, signed(provider, body))
    if kind == "bytes" and json_object(body):
        assert answer.status in {200, 400} and (answer.status == 400 or starts_nothing(answer.body))
        return
    assert answer.status == 400, answer
    assert answer.body["error"] == f"invalid {provider.what}", answer
    assert [p["loc"] for p in answer.body["errors"]] == ["body"], answer


# The size cap ------------------------------------------------------------------------------


@seed(SEED)
@fuzz(CAP)
@example(over=0).via("the cap")
@example(over=1).via("a byte over")
@example(over=-1).via("a byte under")
@given(over=st.integers(-2048, 4096))
def test_bitbucket_bodies_around_the_cap(hooks: Hooks, over: int) -> None:
    """The reference push padded (in a field nobody reads) to the 256 KiB cap plus `over`
    bytes: up to the cap a duplicate, over it 413 naming the limit."""
    provider = BITBUCKET
    padded = {**provider.reference, "fuzzPadding": ""}
    padding = BITBUCKET_CAP + over - len(compact(padded))
    padded["fuzzPadding"] = "p" * padding
    body = compact(padded)
    assert len(body) == BITBUCKET_CAP + over
    answer = hooks.post(provider, "cap", body, signed(provider, body))
    if len(body) <= BITBUCKET_CAP:
        assert (answer.status, answer.body) == (200, DUPLICATE), answer
    else:
        assert answer.status == 413, answer
        assert answer.body["limit"] == BITBUCKET_CAP, answer
        assert "256 KiB" in answer.body["error"], answer


# Many refs in one push -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bitbucket", "azuredevops"])
@pytest.mark.parametrize("distinct", [False, True])
def test_many_refs_to_branches_no_track_follows(hooks: Hooks, name: str, distinct: bool) -> None:
    """One push moving 40 branches no track follows, with long names that escape to 12 bytes a
    character (the same one, or each its own): each is a reason to ignore the push, and the
    answer stays small all the same."""
    provider = PROVIDERS[name]
    moves = []
    for index in range(40):
        branch = (f"{index}-" if distinct else "") + "\U0001f600" * 150
        data = copy.deepcopy(provider.reference)
        provider.set_refs(data, branch, provider.reference_before, provider.reference_after)
        moves.append(provider.value(data, provider.after[:3]))
    body = copy.deepcopy(provider.reference)
    _parent(body, provider.after[:2])[provider.after[1]] = moves
    raw = compact(body, ascii_only=False)
    answer = hooks.post(provider, "many refs", raw, signed(provider, raw))
    assert answer.status == 200 and starts_nothing(answer.body), answer
