"""`POST /api/hooks/{provider}`: Git pushes become rollouts of the tracks that follow them.

    verify the signature over the raw body (401, no detail, when it fails)
    ping → 200; tag pushes, branch deletions, other events → 200 {"ignored": reason}
    claim the delivery id (a redelivery of a handed-over delivery → 200 {"duplicate": true})
    every track following the repository and branch, whose path filters the push passes,
        gets the revision (202 {"tracks": [...]}); none → 200 {"tracks": []}

The delivery is marked handed over only after every track has the revision durably, so a
crash in between makes the provider's redelivery finish the job instead of being dropped.
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from shared.runtime import runtime
from shared.store import Trigger
from shared.webhooks import (
    Ignored,
    Ping,
    Push,
    RepoUrlError,
    SignatureError,
    UnknownProvider,
    WebhookConfigError,
    normalise_repo_url,
    parse_webhook,
    paths_wanted,
    provider_name,
    pushes_in,
    track_matches,
)
from triggers.dispatch import Handed, hand_over, handing_over
from triggers.http import answer, client_route, refuse

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
        result = parse_webhook(
            name, dict(req.headers), req.get_body() or b"", rt.settings.webhook_secret(name)
        )
    except UnknownProvider:
        return refuse(
            404,
            f"unknown provider '{provider}'; use github, gitlab, azuredevops, bitbucket or gitea",
        )
    except WebhookConfigError as error:
        log.error("webhook from %s refused: %s", provider, error)
        return refuse(401, "unauthorized")
    except SignatureError as error:
        log.warning("webhook from %s refused: %s", provider, error)
        return refuse(401, "unauthorized")
    if isinstance(result, Ping):
        return answer({"ping": True})
    if isinstance(result, Ignored):
        return answer({"ignored": result.reason})
    pushes = pushes_in(result)
    delivery_id = pushes[0].delivery_id
    handed: list[Handed] = []
    ignored: list[str] = []
    async with handing_over(rt.records, name, delivery_id) as seen:
        if seen:
            return answer({"duplicate": True})
        tracks = [(t, t.track_spec()) for t in await asyncio.to_thread(rt.records.tracks.list)]
        for push in pushes:
            following = [(t, s) for t, s in tracks if track_matches(s.source, push)]
            if not following and any(_same_repository(s.source.url, push) for _, s in tracks):
                ignored.append(f"branch '{push.branch}' is not followed by any track")
            for track, spec in following:
                if not paths_wanted(spec.source, push):
                    ignored.append(f"no change under the paths of track '{spec.name}'")
                    continue
                trigger = Trigger(
                    kind=f"git:{name}", actor=push.pusher or name, delivery_id=delivery_id
                )
                cause = f"{name}:{delivery_id}"
                handed.append(await hand_over(client, rt, track, push.commit, trigger, cause))
    if handed:
        return answer({"tracks": handed}, 202)
    if ignored:
        return answer({"ignored": "; ".join(ignored), "tracks": []})
    return answer({"tracks": []})


def _same_repository(url: str, push: Push) -> bool:
    try:
        return normalise_repo_url(url) in push.repository_keys
    except RepoUrlError:
        return False
