"""`POST /api/hooks/{provider}`: Git pushes become rollouts of the tracks that follow them.

    verify the signature over the raw body (401, no detail, when it fails)
    ping → 200; tag pushes, branch deletions, other events → 200 {"ignored": reason}
    claim the delivery, by an id derived from the signed body (a redelivery or a replay of a
        handed-over delivery → 200 {"duplicate": true}, whatever its delivery header says)
    every track following the repository and branch, whose path filters the push passes:
        a push newer than the newest it took gets the revision (202 {"tracks": [...]});
        one that is not starts nothing (200 {"ignored": ..., "reason": "Stale"})
        (shared.ordering); no track → 200 {"tracks": []}

The delivery is marked handed over only after every track has the revision durably, so a
crash in between makes the provider's redelivery finish the job instead of being dropped.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.ordering import Placed, PushedCommit
from shared.reasons import Reason
from shared.runtime import Runtime, runtime
from shared.store import TrackRecord, Trigger
from shared.telemetry import annotate
from shared.webhooks import (
    Ignored,
    Ping,
    Push,
    RepoUrlError,
    SignatureError,
    UnknownProvider,
    WebhookConfigError,
    git_body_limit,
    normalise_repo_url,
    parse_webhook,
    paths_wanted,
    provider_name,
    pushes_in,
    track_matches,
)
from shared.webhooks.matching import not_followed
from triggers.dispatch import Handed, hand_over, handing_over
from triggers.http import answer, client_route, read_body, refuse

log = logging.getLogger("arcwave.triggers.git")
bp = df.Blueprint()


@client_route(bp, "hooks/{provider}", ["POST"], anonymous=True)
async def git_webhook(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    provider = req.route_params.get("provider", "")
    rt = runtime()
    try:
        name = provider_name(provider)
        annotate(provider=name)
        body = read_body(req, git_body_limit(name), f"{name} webhook body")
        result = parse_webhook(name, dict(req.headers), body, rt.settings.webhook_secret(name))
    except UnknownProvider:
        return refuse(
            404,
            f"unknown provider '{provider}'; use github, gitlab, azuredevops, bitbucket or gitea",
        )
    except WebhookConfigError as error:
        log.error("webhook from %s refused: %s", provider, error)
        annotate(outcome="refused")
        return refuse(401, "unauthorized")
    except SignatureError as error:
        log.warning("webhook from %s refused: %s", provider, error)
        annotate(outcome="refused")
        return refuse(401, "unauthorized")
    if isinstance(result, Ping):
        annotate(outcome="ping")
        return answer({"ping": True})
    if isinstance(result, Ignored):
        annotate(outcome="ignored")
        return answer({"ignored": result.reason})
    pushes = pushes_in(result)
    delivery_id = pushes[0].delivery_id
    annotate(delivery_id=delivery_id)
    handed: list[Handed] = []
    ignored: list[str] = []
    stale: list[str] = []
    async with handing_over(rt.records, name, delivery_id) as seen:
        if seen:
            annotate(outcome="duplicate")
            return answer({"duplicate": True})
        tracks = [(t, t.track_spec()) for t in await asyncio.to_thread(rt.records.tracks.list)]
        for push in pushes:
            following = [(t, s) for t, s in tracks if track_matches(s.source, push)]
            if not following and any(_same_repository(s.source.url, push) for _, s in tracks):
                ignored.append(not_followed(push.branch))
            for track, spec in following:
                if not paths_wanted(spec.source, push):
                    ignored.append(f"no change under the paths of track '{spec.name}'")
                    continue
                placed = await asyncio.to_thread(_take, rt, track.id, push)
                if not placed.taken:
                    log.info(
                        "decision=stale track=%s commit=%s delivery=%s request=%s why=%r",
                        spec.name,
                        push.commit,
                        delivery_id,
                        push.request_id,
                        placed.why,
                    )
                    stale.append(f"track '{spec.name}': {placed.why}")
                    continue
                trigger = Trigger(
                    kind=f"git:{name}", actor=push.pusher or name, delivery_id=delivery_id
                )
                cause = f"{name}:{delivery_id}"
                handed.append(await hand_over(client, rt, track, push.commit, trigger, cause))
    annotate(outcome="handed" if handed else "stale" if stale else "ignored" if ignored else "none")
    if handed:
        return answer({"tracks": handed, **_stale(stale)}, 202)
    if stale:
        return answer({"ignored": joined_reasons(stale), **_stale(stale), "tracks": []})
    if ignored:
        return answer({"ignored": joined_reasons(ignored), "tracks": []})
    return answer({"tracks": []})


def _take(rt: Runtime, track: str, push: Push) -> Placed:
    """Place `push` against the newest push `track` took, and take it when it is newer, in one
    conditional write: of two pushes that race, the newer one ends as the track's head."""
    pushed = PushedCommit(push.commit, push.previous_commit, push.pushed_at, push.delivery_id)
    placed: list[Placed] = []

    def taking(record: TrackRecord) -> TrackRecord | None:
        taken, where = record.taking(pushed)
        placed[:] = [where]
        return taken

    rt.records.tracks.update(track, taking)
    return placed[0]


MAX_REASONS = 5
"""The most reasons an answer lists: one delivery can move any number of branches."""


def joined_reasons(reasons: list[str]) -> str:
    """`reasons` for an answer: each once, at most `MAX_REASONS`, then how many more."""
    unique = list(dict.fromkeys(reasons))
    more = len(unique) - MAX_REASONS
    return "; ".join(unique[:MAX_REASONS] + ([f"and {more} more"] if more > 0 else []))


def _stale(stale: list[str]) -> dict[str, str]:
    """The answer's `reason` when some track found the push stale."""
    return {"reason": Reason.STALE.value} if stale else {}


def _same_repository(url: str, push: Push) -> bool:
    try:
        return normalise_repo_url(url) in push.repository_keys
    except RepoUrlError:
        return False
